# expect: sensitive_value_in_validation_error.pkr.hcl:9:21: The password <sensitive> is shorter than 20 characters.
# lacks: hunter2-hunter2
variable "password" {
  type      = string
  default   = "hunter2-hunter2"
  sensitive = true

  validation {
    condition     = length(var.password) >= 20
    error_message = "The password ${var.password} is shorter than 20 characters."
  }
}
