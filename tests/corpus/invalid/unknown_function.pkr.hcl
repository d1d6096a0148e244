# expect: TODO
locals {
  name = uppercase("web")
}
