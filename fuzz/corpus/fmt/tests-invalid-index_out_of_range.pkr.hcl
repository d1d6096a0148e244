# expect: index_out_of_range.pkr.hcl:4:23: The index 2 is out of range: the list local.zones has 2 elements
locals {
  zones = ["a", "b"]
  third = local.zones[2]
}
