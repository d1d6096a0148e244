# expect: two_error_cleanup_provisioners.pkr.hcl:13:3: A build can have only one error-cleanup-provisioner
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  error-cleanup-provisioner "shell-local" {
    inline = ["echo one"]
  }

  error-cleanup-provisioner "shell-local" {
    inline = ["echo two"]
  }
}
