# One file: a web image built twice (stable and canary), provisioned by a
# script, recorded in a manifest and announced by a post-processor chain.

packer {
  required_version = ">= 1.7.0"
}

variable "app_version" {
  type        = string
  default     = "1.4.2"
  description = "The application release baked into the image."
}

variable "packages" {
  type    = list(string)
  default = ["nginx", "curl"]
}

locals {
  image_name = "web-${replace(var.app_version, ".", "-")}"
  motd       = <<-EOT
    Welcome to ${local.image_name}
    Packages: ${join(", ", var.packages)}
    EOT
}

source "null" "web" {
  communicator = "none"
}

build {
  name    = "web"
  sources = ["source.null.web"]

  source "null.web" {
    name = "canary"
  }

  provisioner "shell-local" {
    environment_vars = ["IMAGE=${local.image_name}", "PACKAGES=${join(" ", var.packages)}"]
    inline = [
      "echo building $IMAGE on ${source.name}",
      "for p in $PACKAGES; do echo install $p; done",
    ]
  }

  provisioner "shell-local" {
    inline = ["printf '%s' '${local.motd}' > motd-${source.name}.txt"]
  }

  post-processor "manifest" {
    output     = "out/manifest.json"
    strip_path = true
    custom_data = {
      version = var.app_version
      image   = local.image_name
    }
  }

  post-processors {
    post-processor "shell-local" {
      inline = ["echo first in chain for $PACKER_BUILD_NAME"]
    }
    post-processor "shell-local" {
      inline = ["echo second in chain for $PACKER_BUILD_NAME"]
    }
  }
}
