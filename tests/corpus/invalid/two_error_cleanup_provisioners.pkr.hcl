# expect: TODO
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  error-cleanup-provisioner "shell-local" {
    inline = ["echo one"]
  }

  error-cleanup-provisioner "shell-local" {
    inline = ["echo two"]
  }
}
