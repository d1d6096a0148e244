# expect: file_not_found.pkr.hcl:3:14: Call to function "file" failed: no file exists at
locals {
  key = file("keys/missing.pub")
}
