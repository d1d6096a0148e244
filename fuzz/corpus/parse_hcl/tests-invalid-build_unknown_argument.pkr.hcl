# expect: build_unknown_argument.pkr.hcl:7:3: did you mean "sources"?
source "null" "web" {
  communicator = "none"
}

build {
  source = ["source.null.web"]
}
