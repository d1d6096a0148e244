# expect: TODO
locals {
  config = jsondecode("{\"name\": }")
}
