# expect: try_all_fail.pkr.hcl:4:11: Call to function "try" failed: no expression succeeded
locals {
  zones = ["a", "b"]
  zone  = try(local.zones[5], tonumber("eu"))
}
