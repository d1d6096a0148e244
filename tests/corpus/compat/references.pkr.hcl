# Source references in every form Packer takes: the last two dot-separated
# parts are TYPE and NAME, whatever comes before them.
source "null" "a" {
  communicator = "none"
}

source "null" "b" {
  communicator = "none"
}

source "null" "c" {
  communicator = "none"
}

build {
  sources = ["null.a", "source.null.b", "sources.null.c"]

  source "source.null.a" {
    name = "a-again"
  }

  provisioner "shell-local" {
    inline = ["echo built ${source.type}.${source.name}"]
  }
}
