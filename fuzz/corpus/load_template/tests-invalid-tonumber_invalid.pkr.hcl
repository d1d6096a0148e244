# expect: tonumber_invalid.pkr.hcl:3:19: cannot convert "eighty" to number
locals {
  port = tonumber("eighty")
}
