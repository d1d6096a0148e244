# expect: bad_regex_pattern.pkr.hcl:3:14: invalid regexp pattern
locals {
  ok = regex("([a-z]+", "web")
}
