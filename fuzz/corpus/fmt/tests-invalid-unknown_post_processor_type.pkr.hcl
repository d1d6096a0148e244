# expect: unknown_post_processor_type.pkr.hcl:11:20: bake has no post-processor named "manifets". Known post-processors: 
# expect: unknown_post_processor_type.pkr.hcl:11:20: Help: did you mean "manifest"?
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
