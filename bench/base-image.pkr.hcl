# Makes (or finds in the cache) the Debian base image the web example starts
# from, and prints its path; bench/qemu.sh uses it to time the base apart.
data "debootstrap" "base" {
  suite = "bookworm"
}

source "null" "base" {
  communicator = "none"
}

build {
  sources = ["source.null.base"]
  provisioner "shell-local" {
    inline = ["echo BASE_IMAGE=${data.debootstrap.base.path}"]
  }
}
