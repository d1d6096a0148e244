# expect: shell_local_inline_and_script.pkr.hcl:11:5: takes only one of "inline", "script", "scripts" and "command"
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline = ["echo hi"]
    script = "setup.sh"
  }
}
