# A starter template: an AMI from the newest Debian 12 AMI, made on a
# temporary EC2 instance that bake removes again (with its key pair and
# security group), whatever happens.
# Try: AWS_PROFILE=… bake build amazon-ebs.pkr.hcl

variable "region" {
  type    = string
  default = "us-east-1"
}

data "amazon-ami" "debian" {
  region      = var.region
  filters     = { name = "debian-12-amd64-*", virtualization-type = "hvm" }
  owners      = ["136693071363"] # Debian's account
  most_recent = true
}

source "amazon-ebs" "example" {
  region        = var.region
  source_ami    = data.amazon-ami.debian.id
  instance_type = "t3.micro"
  ssh_username  = "admin"
  ami_name      = "example-${formatdate("YYYYMMDDhhmmss", timestamp())}"

  # Without this, SSH is open to 0.0.0.0/0 while the instance runs.
  # temporary_security_group_source_cidrs = ["203.0.113.0/24"]

  tags = {
    Name = "example"
    Base = "{{ .SourceAMIName }}"
  }
}

build {
  sources = ["source.amazon-ebs.example"]

  provisioner "shell" {
    inline = ["echo built by bake from ${build.SourceAMIName} | sudo tee /etc/motd"]
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
