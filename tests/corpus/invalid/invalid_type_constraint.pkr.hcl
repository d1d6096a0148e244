# expect: TODO
variable "name" {
  type    = strng
  default = "web"
}
