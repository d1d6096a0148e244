# expect: duplicate_key_in_for.pkr.hcl:4:13: Two elements produce the key "ann"
locals {
  users  = ["ann", "bob", "ann"]
  by_name = { for u in local.users : u => upper(u) }
}
