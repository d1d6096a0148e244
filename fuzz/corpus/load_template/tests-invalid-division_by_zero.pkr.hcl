# expect: division_by_zero.pkr.hcl:3:11: Division by zero
locals {
  ratio = 10 / 0
}
