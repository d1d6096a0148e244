# expect: TODO
locals {
  name = upper("web", "api")
}
