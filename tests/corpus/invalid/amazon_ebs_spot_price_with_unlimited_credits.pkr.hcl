# expect: amazon_ebs_spot_price_with_unlimited_credits.pkr.hcl:7:30: unlimited credits cannot be used with Spot Instances
source "amazon-ebs" "web" {
  region                   = "us-east-1"
  ami_name                 = "web-1"
  source_ami               = "ami-0123456789abcdef0"
  instance_type            = "t3.micro"
  spot_price               = "0.02"
  enable_unlimited_credits = true
  ssh_username             = "admin"
}

build {
  sources = ["source.amazon-ebs.web"]
}
