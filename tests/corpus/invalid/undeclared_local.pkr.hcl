# expect: TODO
locals {
  image_name = "web"
}

source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline = ["echo ${local.imagename}"]
  }
}
