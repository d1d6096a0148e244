# expect: object_key_not_string.pkr.hcl:3:12: Can't use a tuple value as an object key
locals {
  tags = { (["a"]) = "b" }
}
