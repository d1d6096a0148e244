# expect: locals_cycle.pkr.hcl:3:3: local.name → local.image → local.tag → local.name
locals {
  name  = "${local.image}-web"
  image = "${local.tag}-img"
  tag   = local.name
}
