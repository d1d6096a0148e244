# expect: post_processor_only_and_except.pkr.hcl:10:5: "only" and "except" cannot both be set on one post-processor
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  post-processor "manifest" {
    except = ["null.b"]
    only   = ["null.a"]
  }
}
