# expect: TODO
locals {
  name  = "${local.image}-web"
  image = "${local.tag}-img"
  tag   = local.name
}
