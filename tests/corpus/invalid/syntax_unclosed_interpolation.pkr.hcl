# expect: TODO
locals {
  image = "web-${var.version"
}
