# expect: TODO
locals {
  zones = ["a", "b"]
  label = "zones: ${local.zones}"
}
