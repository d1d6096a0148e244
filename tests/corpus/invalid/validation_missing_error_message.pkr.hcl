# expect: TODO
variable "size" {
  type    = number
  default = 10
  validation {
    condition = var.size > 0
  }
}
