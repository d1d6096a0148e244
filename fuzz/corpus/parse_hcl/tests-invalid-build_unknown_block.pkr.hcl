# expect: build_unknown_block.pkr.hcl:9:3: did you mean "provisioner"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisoner "shell-local" {
    inline = ["echo hi"]
  }
}
