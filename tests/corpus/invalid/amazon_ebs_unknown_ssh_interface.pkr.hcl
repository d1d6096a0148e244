# expect: amazon_ebs_unknown_ssh_interface.pkr.hcl:8:19: ssh_interface must be one of public_ip, private_ip, public_dns, private_dns, not "public_address"
source "amazon-ebs" "web" {
  region        = "us-east-1"
  ami_name      = "web-1"
  source_ami    = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  ssh_username  = "admin"
  ssh_interface = "public_address"
}

build {
  sources = ["source.amazon-ebs.web"]
}
