# expect: TODO
locals {
  script = <<EOT
echo hello
echo world
