# expect: TODO
locals {
  ok = regex("([a-z]+", "web")
}
