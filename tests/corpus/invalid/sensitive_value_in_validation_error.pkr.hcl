# expect: TODO
variable "password" {
  type      = string
  default   = "hunter2-hunter2"
  sensitive = true

  validation {
    condition     = length(var.password) >= 20
    error_message = "The password ${var.password} is shorter than 20 characters."
  }
}
