# expect: null_attribute_access.pkr.hcl:8:17: The value var.vm is null, so it has no attribute "cpus"
variable "vm" {
  type    = any
  default = null
}

locals {
  cpus = var.vm.cpus
}
