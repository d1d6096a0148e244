# Blocks and versions current Packer accepts: a top-level and a build-level
# hcp_packer_registry, a required_version of 1.12 and later, and a source of
# a type bake does not have that no selected build uses.
packer {
  required_version = ">= 1.12.0"
  required_plugins {
    qemu = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/qemu"
    }
  }
}

hcp_packer_registry {
  bucket_name = "web"
  description = "not published by bake"
}

variable "tags" {
  default = { env = "dev", team = "images" }
}

locals {
  env = var.tags.env
}

source "virtualbox-iso" "desktop" {
  guest_os_type = "Ubuntu_64"
}

source "null" "server" {
  communicator = "none"
}

build {
  name = "servers"

  hcp_packer_registry {
    bucket_name = "servers"
  }

  sources = ["source.null.server"]

  provisioner "shell-local" {
    inline = ["echo env=${local.env} packer=${packer.version}"]
  }
}

build {
  name    = "desktops"
  sources = ["source.virtualbox-iso.desktop"]
}
