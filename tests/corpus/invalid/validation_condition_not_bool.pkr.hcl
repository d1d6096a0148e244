# expect: TODO
variable "disk" {
  type    = number
  default = 20

  validation {
    condition     = "yes"
    error_message = "The disk must be larger than 10 GB."
  }
}
