# expect: TODO
data "amazon-ami" "base" {
  most_recent = true
}

source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]
}
