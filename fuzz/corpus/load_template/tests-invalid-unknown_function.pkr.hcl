# expect: unknown_function.pkr.hcl:3:10: There is no function named "uppercase"
locals {
  name = uppercase("web")
}
