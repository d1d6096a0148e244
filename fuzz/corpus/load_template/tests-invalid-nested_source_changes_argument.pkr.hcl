# expect: nested_source_changes_argument.pkr.hcl:9:5: "communicator" is already set in source "null.web"
source "null" "web" {
  communicator = "none"
}

build {
  source "source.null.web" {
    name         = "canary"
    communicator = "ssh"
  }
}
