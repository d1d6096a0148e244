# expect: invalid_type_constraint.pkr.hcl:3:13: did you mean "string"?
variable "name" {
  type    = strng
  default = "web"
}
