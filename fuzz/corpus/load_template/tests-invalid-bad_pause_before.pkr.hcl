# expect: bad_pause_before.pkr.hcl:10:20: has an unknown unit " parsecs"
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
