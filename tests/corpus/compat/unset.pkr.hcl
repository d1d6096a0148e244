# A variable with no value: `inspect` shows it, and what is computed from
# it, as unknown; `validate` refuses it.
variable "region" {
  type = string
}

variable "size" {
  type    = number
  default = 2
}

locals {
  where = "in-${var.region}"
  twice = var.size * 2
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
