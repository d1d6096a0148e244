# expect: TODO
source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}

build {
  sources = ["source.null.a", "source.null.b"]

  provisioner "shell-local" {
    only   = ["null.a"]
    except = ["null.b"]
    inline = ["echo hi"]
  }
}
