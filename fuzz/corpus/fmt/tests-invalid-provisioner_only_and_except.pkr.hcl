# expect: provisioner_only_and_except.pkr.hcl:14:5: "only" and "except" cannot both be set on one provisioner
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
