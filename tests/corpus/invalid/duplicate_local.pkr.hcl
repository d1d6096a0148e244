# expect: TODO
locals {
  name = "web"
}

locals {
  name = "api"
}
