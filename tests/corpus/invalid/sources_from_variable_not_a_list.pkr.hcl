# expect: sources_from_variable_not_a_list.pkr.hcl:11:13: "sources" must be a list of strings, not bool
variable "enabled" {
  default = true
}

source "null" "web" {
  communicator = "none"
}

build {
  sources = var.enabled
}
