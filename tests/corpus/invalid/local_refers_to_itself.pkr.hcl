# expect: TODO
locals {
  count = local.count + 1
}
