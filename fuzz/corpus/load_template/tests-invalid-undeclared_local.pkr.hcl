# expect: undeclared_local.pkr.hcl:14:29: did you mean "image_name"?
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
