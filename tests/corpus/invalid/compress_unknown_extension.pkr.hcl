# expect: compress_unknown_extension.pkr.hcl:10:14: cannot tell the format of "out/image.rar"
# expect: compress_unknown_extension.pkr.hcl:10:14: .tar.gz
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  post-processor "compress" {
    output = "out/image.rar"
  }
}
