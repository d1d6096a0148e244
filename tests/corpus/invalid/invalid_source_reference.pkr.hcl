# expect: invalid_source_reference.pkr.hcl:7:14: "web" is not a source reference; expected TYPE.NAME or source.TYPE.NAME
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["web"]
}
