# expect: checksum_unknown_type.pkr.hcl:10:22: "sha255" is not a checksum type
# expect: checksum_unknown_type.pkr.hcl:10:22: did you mean "sha256"?
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  post-processor "checksum" {
    checksum_types = ["md5", "sha255"]
  }
}
