# expect: dynamic_bad_for_each.pkr.hcl:6:16: Cannot use a number value in for_each
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
