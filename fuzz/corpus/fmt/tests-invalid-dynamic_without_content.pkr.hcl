# expect: dynamic_without_content.pkr.hcl:10:3: A dynamic block needs exactly one nested "content" block
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
