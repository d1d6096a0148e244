# expect: syntax_unclosed_interpolation.pkr.hcl:3:30: Invalid multi-line string
locals {
  image = "web-${var.version"
}
