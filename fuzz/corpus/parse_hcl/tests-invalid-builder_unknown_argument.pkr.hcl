# expect: builder_unknown_argument.pkr.hcl:3:3: An argument named "comunicator" is not expected in source "null.web".\nHelp: did you mean "communicator"?
source "null" "web" {
  comunicator = "none"
}

build {
  sources = ["source.null.web"]
}
