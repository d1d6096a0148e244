# expect: build_unknown_attribute.pkr.hcl:11:28: did you mean "User"?
source "null" "web" {
  communicator = "none"
}

build {
  name    = "images"
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline = ["ssh ${build.Usr}@${build.Host}"]
  }
}
