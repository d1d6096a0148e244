# expect: manifest_wrong_type.pkr.hcl:10:18: Invalid value for "strip_path" in post-processor "manifest": a bool is required, but this is the string "sometimes"
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  post-processor "manifest" {
    strip_path = "sometimes"
  }
}
