variable "x" {
  type = strng
}
locals {
  a = local.b
  b = local.a
}
source "null" "x" {
  comunicator = "none"
}
build {
  sources = ["source.null.y", "source.nul.x"]
  provisioner "shell-locl" {}
}
