# expect: duplicate_source_in_build.pkr.hcl:9:3: The source "null.web" appears twice in this build
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  source "null.web" {
  }
}
