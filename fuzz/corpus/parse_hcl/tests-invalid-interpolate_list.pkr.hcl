# expect: interpolate_list.pkr.hcl:4:21: string required, but this is a tuple
locals {
  zones = ["a", "b"]
  label = "zones: ${local.zones}"
}
