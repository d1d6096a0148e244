# expect: unknown_root_variable.pkr.hcl:3:12: There is no variable named "settings"
locals {
  region = settings.region
}
