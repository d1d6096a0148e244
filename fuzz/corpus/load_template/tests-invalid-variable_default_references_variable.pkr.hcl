# expect: variable_default_references_variable.pkr.hcl:9:23: Variables not allowed
variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "bucket" {
  type    = string
  default = "images-${var.region}"
}
