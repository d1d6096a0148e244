# expect: TODO
source "null" "web" {
  comunicator = "none"
}

build {
  sources = ["source.null.web"]
}
