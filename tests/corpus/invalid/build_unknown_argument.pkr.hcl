# expect: TODO
source "null" "web" {
  communicator = "none"
}

build {
  source = ["source.null.web"]
}
