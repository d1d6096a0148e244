# expect: post_processors_unknown_block.pkr.hcl:10:5: did you mean "post-processor"?
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  post-processors {
    post_processor "manifest" {
      output = "manifest.json"
    }
  }
}
