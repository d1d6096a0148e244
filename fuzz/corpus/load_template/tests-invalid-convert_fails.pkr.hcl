# expect: convert_fails.pkr.hcl:3:19: element 1: a number is required
locals {
  ports = convert(["80", "http"], list(number))
}
