# expect: TODO
source "amazon-eb" "web" {
  region = "eu-west-1"
}

build {
  sources = ["source.amazon-eb.web"]
}
