# expect: syntax_multiline_string.pkr.hcl:15:34: Invalid multi-line string
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
