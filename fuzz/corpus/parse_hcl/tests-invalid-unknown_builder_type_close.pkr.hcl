# expect: unknown_builder_type_close.pkr.hcl:2:8: did you mean "null"?
source "nul" "web" {
  communicator = "none"
}

build {
  sources = ["source.nul.web"]
}
