# expect: unknown_provisioner_type.pkr.hcl:10:15: bake has no provisioner named "shell-locl". Known provisioners: 
# expect: unknown_provisioner_type.pkr.hcl:10:15: Help: did you mean "shell-local"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-locl" {
    inline = ["echo hi"]
  }
}
