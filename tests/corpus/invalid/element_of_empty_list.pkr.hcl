# expect: TODO
locals {
  first = element([], 0)
}
