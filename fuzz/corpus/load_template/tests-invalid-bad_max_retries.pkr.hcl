# expect: bad_max_retries.pkr.hcl:10:19: "max_retries" must be a whole number
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    max_retries = "many"
    inline      = ["echo hi"]
  }
}
