# expect: local_refers_to_itself.pkr.hcl:3:3: local.count → local.count
locals {
  count = local.count + 1
}
