# expect: dynamic_provisioner_in_build.pkr.hcl:9:3: Only "source" blocks can be generated with dynamic in a build block.
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  dynamic "provisioner" {
    for_each = ["a"]
    content {}
  }
}
