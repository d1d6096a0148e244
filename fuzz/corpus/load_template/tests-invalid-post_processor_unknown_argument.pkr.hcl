# expect: post_processor_unknown_argument.pkr.hcl:10:5: did you mean "output"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  post-processor "manifest" {
    outptu = "manifest.json"
  }
}
