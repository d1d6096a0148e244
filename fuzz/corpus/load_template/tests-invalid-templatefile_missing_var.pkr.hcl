# expect: templatefile_missing_var.pkr.hcl:3:25: Call to function "templatefile" failed: no file exists at
locals {
  script = templatefile("templates/missing.tpl", {})
}
