# expect: TODO
variable "disk_size" {
  type    = number
  default = "twenty"
}
