# expect: attribute_of_string.pkr.hcl:8:21: Can't access attribute "zone" on a string value var.region
variable "region" {
  type    = string
  default = "eu-west-1"
}

locals {
  zone = var.region.zone
}
