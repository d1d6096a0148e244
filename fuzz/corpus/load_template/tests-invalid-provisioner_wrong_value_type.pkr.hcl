# expect: provisioner_wrong_value_type.pkr.hcl:10:14: Invalid value for "inline" in provisioner "shell-local": a list is required, but this is an object
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    inline = { cmd = "echo hi" }
  }
}
