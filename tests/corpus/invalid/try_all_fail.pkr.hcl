# expect: TODO
locals {
  zone = try(local.missing_zone, var.zone)
}
