# expect: TODO
locals {
  users  = ["ann", "bob", "ann"]
  by_name = { for u in local.users : u => upper(u) }
}
