# expect: TODO
locals {
  key = file("keys/missing.pub")
}
