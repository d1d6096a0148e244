# expect: source_unknown_attribute.pkr.hcl:10:39: did you mean "name"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline = ["echo building ${source.nmae}"]
  }
}
