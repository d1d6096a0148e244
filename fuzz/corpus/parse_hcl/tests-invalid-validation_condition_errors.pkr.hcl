# expect: validation_condition_errors.pkr.hcl:7:30: Can't access attribute "size" on a string value var.disk
variable "disk" {
  type    = string
  default = "20G"

  validation {
    condition     = var.disk.size > 10
    error_message = "The disk must be larger than 10 GB."
  }
}
