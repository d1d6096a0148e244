# expect: top_level_argument.pkr.hcl:2:1: An argument named "region" is not expected at the top level
region = "eu-west-1"

source "null" "web" {
  communicator = "none"
}
