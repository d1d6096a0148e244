# expect: TODO
locals {
  size = abs("large")
}
