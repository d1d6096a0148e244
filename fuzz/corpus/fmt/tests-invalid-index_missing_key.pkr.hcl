# expect: index_missing_key.pkr.hcl:7:20: has no element with the key "eu-west-2".\nHelp: did you mean "eu-west-1"?
locals {
  amis = {
    "eu-west-1" = "ami-123"
    "us-east-1" = "ami-456"
  }
  ami = local.amis["eu-west-2"]
}
