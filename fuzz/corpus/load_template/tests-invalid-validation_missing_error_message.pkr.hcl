# expect: validation_missing_error_message.pkr.hcl:5:3: A validation block needs both "condition" and "error_message"
variable "size" {
  type    = number
  default = 10
  validation {
    condition = var.size > 0
  }
}
