# expect: TODO
locals {
  base = data.debootstrap.base.path
}
