# expect: TODO
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    script = "scripts/does-not-exist.sh"
  }
}
