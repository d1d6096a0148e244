source "amazon-ebs" "ubuntu" {
  ami_name      = "packer-${local.ts}"
  instance_type = "t2.micro"
  region        = var.region
  source_ami_filter {
    filters = {
      name             = "ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*"
      root-device-type = "ebs"
    }
    most_recent = true
    owners      = ["099720109477"]
  }
  ssh_username = "ubuntu"
  tags = {
    Name        = "x" # the name
    Environment = "dev"
  }
}
