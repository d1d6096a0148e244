# A chain of named post-processors; `-except second` drops `second` and the
# rest of its chain, as in Packer. The top-level one is a chain of its own.
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  post-processors {
    post-processor "shell-local" {
      name   = "first"
      inline = ["echo ran-first"]
    }
    post-processor "shell-local" {
      name   = "second"
      inline = ["echo ran-second"]
    }
    post-processor "shell-local" {
      name   = "third"
      inline = ["echo ran-third"]
    }
  }

  post-processor "shell-local" {
    name   = "alone"
    inline = ["echo ran-alone"]
  }
}
