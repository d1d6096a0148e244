# expect: amazon_ebs_filter_without_owners.pkr.hcl:8:3: Missing owners
source "amazon-ebs" "web" {
  region        = "us-east-1"
  ami_name      = "web-1"
  instance_type = "t3.micro"
  ssh_username  = "admin"

  source_ami_filter {
    filters     = { name = "debian-12-amd64-*" }
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.web"]
}
