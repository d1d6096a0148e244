# expect: TODO
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  post-processors {
    post-processor "manifets" {
      output = "manifest.json"
    }
  }
}
