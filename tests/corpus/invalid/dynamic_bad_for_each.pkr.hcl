# expect: TODO
source "null" "web" {
  communicator = "none"

  dynamic "disk" {
    for_each = 3
    content {
      size = disk.value
    }
  }
}

build {
  sources = ["source.null.web"]
}
