# expect: shell_local_bad_environment_vars.pkr.hcl:10:24: "=oops" is not of the form NAME=VALUE
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    environment_vars = ["GOOD=1", "=oops"]
    inline           = ["echo $GOOD"]
  }
}
