# expect: invalid_source_reference.pkr.hcl:7:14: "null.web" is not a source reference; expected source.TYPE.NAME
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["null.web"]
}
