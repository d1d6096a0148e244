# expect: TODO
locals {
  tags = { (["a"]) = "b" }
}
