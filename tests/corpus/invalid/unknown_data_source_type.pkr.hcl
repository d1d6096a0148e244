# expect: unknown_data_source_type.pkr.hcl:2:6: Known data sources: amazon-ami, amazon-parameterstore, debootstrap, null
data "amazon-secretsmanager" "base" {
  name = "ci/token"
}

source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]
}
