# expect: override_not_an_object.pkr.hcl:11:16: override must be an object keyed by source name
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline   = ["echo hi"]
    override = "null.web"
  }
}
