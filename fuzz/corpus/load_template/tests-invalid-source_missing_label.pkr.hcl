# expect: source_missing_label.pkr.hcl:2:1: A source block takes 2 labels, but this one has 1
source "null" {
  communicator = "none"
}
