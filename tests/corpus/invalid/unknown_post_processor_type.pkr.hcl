# expect: unknown_post_processor_type.pkr.hcl:10:20: Known post-processors: manifest, shell-local.\nHelp: did you mean "manifest"?
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
