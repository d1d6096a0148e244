# expect: template_for_over_string.pkr.hcl:8:23: a string is not a collection
variable "users" {
  type    = string
  default = "ann,bob"
}

locals {
  motd = "%{ for u in var.users }${u} %{ endfor }"
}
