# expect: TODO
locals {
  disk = "20G" + 10
}
