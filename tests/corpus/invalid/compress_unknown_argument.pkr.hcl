# expect: compress_unknown_argument.pkr.hcl:11:5: did you mean "compression_level"?
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  post-processor "compress" {
    output = "out/image.tar.zst"
    keep_input_artifact = true
    compresion_level = 9
  }
}
