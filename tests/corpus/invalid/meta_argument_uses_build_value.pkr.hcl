# expect: meta_argument_uses_build_value.pkr.hcl:11:26: "name" cannot use build.ID: meta-arguments are decided before the build starts
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline = ["echo hi"]
    name   = "step-for-${build.ID}"
  }
}
