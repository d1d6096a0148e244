# expect: TODO
locals {
  script = templatefile("templates/missing.tpl", {})
}
