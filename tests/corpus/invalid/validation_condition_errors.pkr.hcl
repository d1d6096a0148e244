# expect: TODO
variable "disk" {
  type    = string
  default = "20G"

  validation {
    condition     = var.disk.size > 10
    error_message = "The disk must be larger than 10 GB."
  }
}
