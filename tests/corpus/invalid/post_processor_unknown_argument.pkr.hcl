# expect: TODO
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  post-processor "manifest" {
    outptu = "manifest.json"
  }
}
