# expect: TODO
variable "1region" {
  type = string
}
