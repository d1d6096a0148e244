# expect: conditional_not_bool.pkr.hcl:3:10: The condition expression must be a bool, but this is a string
locals {
  size = "big" ? 100 : 10
}
