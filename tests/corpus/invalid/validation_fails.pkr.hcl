# expect: TODO
variable "region" {
  type    = string
  default = "mars-north-1"

  validation {
    condition     = can(regex("^(eu|us|ap)-", var.region))
    error_message = "The region must be an AWS region, such as eu-west-1."
  }
}
