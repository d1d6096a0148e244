# expect: duplicate_source.pkr.hcl:6:1: A source named "null.web" was already declared
source "null" "web" {
  communicator = "none"
}

source "null" "web" {
  communicator = "none"
}
