# expect: TODO
variable "vm" {
  type    = any
  default = null
}

locals {
  cpus = var.vm.cpus
}
