# expect: undeclared_source.pkr.hcl:7:33: did you mean "source.null.web"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web", "source.null.wbe"]
}
