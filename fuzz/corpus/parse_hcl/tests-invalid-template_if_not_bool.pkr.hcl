# expect: template_if_not_bool.pkr.hcl:4:18: The condition must be a bool, but this is a string
locals {
  env   = "prod"
  label = "%{ if local.env }production%{ endif }"
}
