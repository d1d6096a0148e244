# expect: provisioner_unknown_argument.pkr.hcl:10:5: An argument named "inlne" is not expected in provisioner "shell-local".\nHelp: did you mean "inline"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inlne = ["echo hi"]
  }
}
