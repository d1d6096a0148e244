# expect: keep_input_artifact_not_bool.pkr.hcl:10:27: keep_input_artifact must be true or false
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  post-processor "manifest" {
    keep_input_artifact = "yes please"
  }
}
