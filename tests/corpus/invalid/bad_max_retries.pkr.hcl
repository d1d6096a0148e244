# expect: TODO
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
