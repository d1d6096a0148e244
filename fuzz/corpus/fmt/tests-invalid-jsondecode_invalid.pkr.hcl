# expect: jsondecode_invalid.pkr.hcl:3:23: Call to function "jsondecode" failed
locals {
  config = jsondecode("{\"name\": }")
}
