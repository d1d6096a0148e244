# expect: TODO
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  post-processor "manifest" {
    keep_input_artifact = "yes please"
  }
}
