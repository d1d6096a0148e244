# expect: TODO
locals {
  zones = ["a", "b", "c"
  name  = "web"
}
