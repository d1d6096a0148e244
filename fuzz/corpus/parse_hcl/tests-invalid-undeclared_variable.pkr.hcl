# expect: undeclared_variable.pkr.hcl:8:21: An input variable with the name "regoin" has not been declared.\nHelp: did you mean "region"?
variable "region" {
  type    = string
  default = "eu-west-1"
}

locals {
  name = "web-${var.regoin}"
}
