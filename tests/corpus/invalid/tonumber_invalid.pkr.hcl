# expect: TODO
locals {
  port = tonumber("eighty")
}
