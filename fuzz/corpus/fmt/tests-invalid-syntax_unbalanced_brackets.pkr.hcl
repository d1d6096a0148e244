# expect: syntax_unbalanced_brackets.pkr.hcl:4:3: expected `]`
locals {
  zones = ["a", "b", "c"
  name  = "web"
}
