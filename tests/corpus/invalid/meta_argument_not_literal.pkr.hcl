# expect: TODO
variable "targets" {
  type    = list(string)
  default = ["null.a"]
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    only   = var.targets
    inline = ["echo hi"]
  }
}
