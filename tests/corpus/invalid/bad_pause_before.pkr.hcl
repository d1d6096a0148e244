# expect: TODO
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    pause_before = "5 parsecs"
    inline       = ["echo hi"]
  }
}
