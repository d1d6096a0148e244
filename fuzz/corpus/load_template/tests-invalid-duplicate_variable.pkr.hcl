# expect: duplicate_variable.pkr.hcl:7:10: A variable named "region" was already declared
variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "region" {
  type    = string
  default = "us-east-1"
}
