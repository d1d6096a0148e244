# expect: validation_condition_not_bool.pkr.hcl:7:21: The condition must be a bool, but it is a string
variable "disk" {
  type    = number
  default = 20

  validation {
    condition     = "yes"
    error_message = "The disk must be larger than 10 GB."
  }
}
