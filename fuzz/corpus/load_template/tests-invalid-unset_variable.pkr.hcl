# expect: unset_variable.pkr.hcl:2:10: The variable "password" has no default and no value was given
variable "password" {
  type      = string
  sensitive = true
}
