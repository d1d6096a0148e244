# expect: for_over_number.pkr.hcl:3:21: A number value cannot be used as the collection in a for expression
locals {
  names = [for n in 3 : "web-${n}"]
}
