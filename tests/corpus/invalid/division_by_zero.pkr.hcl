# expect: TODO
locals {
  ratio = 10 / 0
}
