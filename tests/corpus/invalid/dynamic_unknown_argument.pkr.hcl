# expect: TODO
source "null" "web" {
  communicator = "none"

  dynamic "disk" {
    for_each  = [1]
    iterater  = d
    content {
      size = 1
    }
  }
}

build {
  sources = ["source.null.web"]
}
