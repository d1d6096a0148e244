# expect: bad_function_argument_type.pkr.hcl:3:14: Call to function "abs" failed: invalid value for "num" parameter: a number is required
locals {
  size = abs("large")
}
