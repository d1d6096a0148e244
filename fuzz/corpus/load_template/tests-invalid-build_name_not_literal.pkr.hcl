# expect: build_name_not_literal.pkr.hcl:12:13: "name" must be a literal string here
variable "name" {
  type    = string
  default = "images"
}

source "null" "web" {
  communicator = "none"
}

build {
  name    = var.name
  sources = ["source.null.web"]
}
