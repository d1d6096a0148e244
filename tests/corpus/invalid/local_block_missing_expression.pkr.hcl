# expect: TODO
local "password" {
  sensitive = true
}
