# expect: validation_fails.pkr.hcl:7:21: The region must be an AWS region, such as eu-west-1.
variable "region" {
  type    = string
  default = "mars-north-1"

  validation {
    condition     = can(regex("^(eu|us|ap)-", var.region))
    error_message = "The region must be an AWS region, such as eu-west-1."
  }
}
