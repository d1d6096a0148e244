# expect: TODO
variable "password" {
  type      = string
  sensitive = true
}
