# expect: nested_source_wrong_labels.pkr.hcl:7:3: A source block takes 1 label, but this one has 2
source "null" "web" {
  communicator = "none"
}

build {
  source "null" "web" {
    name = "canary"
  }
}
