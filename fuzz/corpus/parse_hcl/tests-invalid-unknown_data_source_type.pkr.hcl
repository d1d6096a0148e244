# expect: unknown_data_source_type.pkr.hcl:2:6: Known data sources: debootstrap
data "amazon-ami" "base" {
  most_recent = true
}

source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]
}
