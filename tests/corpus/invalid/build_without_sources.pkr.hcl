# expect: build_without_sources.pkr.hcl:6:1: This build block names no source, so it would build nothing.
source "null" "a" {
  communicator = "none"
}

build {
  name = "nothing"

  provisioner "shell-local" {
    inline = ["echo hi"]
  }
}
