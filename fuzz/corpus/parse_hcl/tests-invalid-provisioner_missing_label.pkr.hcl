# expect: provisioner_missing_label.pkr.hcl:9:3: A provisioner block takes 1 label, but this one has 0
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner {
    inline = ["echo hi"]
  }
}
