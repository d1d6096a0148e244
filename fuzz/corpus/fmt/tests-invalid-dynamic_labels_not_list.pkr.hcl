# expect: dynamic_labels_not_list.pkr.hcl:7:16: labels must be a list of strings
source "null" "web" {
  communicator = "none"

  dynamic "disk" {
    for_each = ["a", "b"]
    labels   = disk.value
    content {
      size = 1
    }
  }
}

build {
  sources = ["source.null.web"]
}
