# expect: TODO
locals {
  subnet = cidrsubnet("10.0.0.0/16", 20, 1)
}
