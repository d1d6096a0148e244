# expect: variable_unknown_argument.pkr.hcl:4:3: did you mean "default"?
variable "region" {
  type    = string
  defualt = "eu-west-1"
}
