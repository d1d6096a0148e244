variable "region" {
  type    = string
  default = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]+-[0-9]$", var.region))
    error_message = "The region must look like eu-west-1."
  }
}

variable "environment" {
  type    = string
  default = "dev"
}

variable "instance" {
  type = object({
    size  = string
    disks = list(number)
  })
  default = {
    size  = "small"
    disks = [10]
  }
}
