# expect: local_block_missing_expression.pkr.hcl:2:1: A local block needs an "expression" argument
local "password" {
  sensitive = true
}
