# expect: duplicate_local.pkr.hcl:7:3: A local named "name" was already declared
locals {
  name = "web"
}

locals {
  name = "api"
}
