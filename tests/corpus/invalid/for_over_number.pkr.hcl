# expect: TODO
locals {
  names = [for n in 3 : "web-${n}"]
}
