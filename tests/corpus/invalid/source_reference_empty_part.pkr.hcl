# expect: source_reference_empty_part.pkr.hcl:7:14: "source..web" is not a source reference
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source..web"]
}
