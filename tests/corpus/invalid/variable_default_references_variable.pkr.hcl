# expect: TODO
variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "bucket" {
  type    = string
  default = "images-${var.region}"
}
