# expect: index_string.pkr.hcl:4:22: A string value local.name cannot be indexed
locals {
  name  = "web"
  names = local.name[0]
}
