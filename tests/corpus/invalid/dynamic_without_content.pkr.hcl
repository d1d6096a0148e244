# expect: TODO
variable "disks" {
  type    = list(number)
  default = [10, 20]
}

source "null" "web" {
  communicator = "none"

  dynamic "disk" {
    for_each = var.disks
  }
}

build {
  sources = ["source.null.web"]
}
