# expect: division_by_zero.pkr.hcl:5:11: can't divide zero by zero or infinity by infinity
# As in HCL, 10 / 0 is +Inf; only 0 / 0 has no value.
locals {
  ratio = 10 / 0
  none  = 0 / 0
}
