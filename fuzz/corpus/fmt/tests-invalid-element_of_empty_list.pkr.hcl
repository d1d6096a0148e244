# expect: element_of_empty_list.pkr.hcl:3:19: cannot use element function with an empty list
locals {
  first = element([], 0)
}
