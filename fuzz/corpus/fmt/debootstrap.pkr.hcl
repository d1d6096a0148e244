variable "suite" {
  type    = string
  default = "bookworm"
}

data "debootstrap" "base" {
  suite  = var.suite
  mirror = "http://deb.debian.org/debian"
}

locals {
  rootfs = data.debootstrap.base.path
}

source "null" "rootfs" {
  communicator = "none"
}

build {
  sources = ["source.null.rootfs"]
  provisioner "shell-local" {
    inline = ["ls ${local.rootfs}"]
  }
}
