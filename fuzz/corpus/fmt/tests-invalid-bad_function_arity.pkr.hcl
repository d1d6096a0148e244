# expect: bad_function_arity.pkr.hcl:3:10: function "upper" expects 1 argument, but got 2
locals {
  name = upper("web", "api")
}
