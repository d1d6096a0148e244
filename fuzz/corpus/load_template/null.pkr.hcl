# A starter template: no machine is built; shell-local runs on this computer.
# Try: bake build null.pkr.hcl

variable "greeting" {
  type    = string
  default = "hello"
}

locals {
  message = "${var.greeting} from bake"
}

source "null" "example" {
  communicator = "none"
}

build {
  sources = ["source.null.example"]

  provisioner "shell-local" {
    inline = ["echo ${local.message}"]
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
