# expect: invalid_variable_name.pkr.hcl:2:10: "1region" is not a valid name
variable "1region" {
  type = string
}
