# expect: TODO
source "null" "web" {
  communicator = "none"
}

build {
  name    = "web"
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline = ["echo hello, "]
  }

  provisioner "shell-local" {
    inline = ["echo unterminated]
  }
}
