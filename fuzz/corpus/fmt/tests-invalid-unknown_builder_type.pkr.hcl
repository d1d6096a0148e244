# expect: unknown_builder_type.pkr.hcl:2:8: bake has no builder named "amazon-eb". Known builders: 
source "amazon-eb" "web" {
  region = "eu-west-1"
}

build {
  sources = ["source.amazon-eb.web"]
}
