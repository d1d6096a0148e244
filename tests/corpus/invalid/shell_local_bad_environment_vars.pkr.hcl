# expect: TODO
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
