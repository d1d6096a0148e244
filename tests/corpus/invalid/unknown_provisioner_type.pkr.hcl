# expect: unknown_provisioner_type.pkr.hcl:9:15: Known provisioners: shell-local, breakpoint.\nHelp: did you mean "shell-local"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-locl" {
    inline = ["echo hi"]
  }
}
