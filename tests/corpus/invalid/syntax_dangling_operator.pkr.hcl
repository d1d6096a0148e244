# expect: TODO
locals {
  disk_gb = 10 *
}
