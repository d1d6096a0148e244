# expect: dynamic_unknown_argument.pkr.hcl:7:5: did you mean "iterator"?
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
