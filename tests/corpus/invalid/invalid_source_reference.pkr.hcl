# expect: TODO
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["null.web"]
}
