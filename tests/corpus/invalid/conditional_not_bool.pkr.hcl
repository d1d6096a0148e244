# expect: TODO
locals {
  size = "big" ? 100 : 10
}
