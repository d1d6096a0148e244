# expect: TODO
source "nul" "web" {
  communicator = "none"
}

build {
  sources = ["source.nul.web"]
}
