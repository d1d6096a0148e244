# expect: TODO
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
