# An AMI for an autoscaling group: built from the newest Debian 12 AMI in
# one region, copied to others, tagged with its base, and named by an SSM
# parameter that a launch template reads (image_id =
# "resolve:ssm:/images/web/latest"), so an instance refresh rolls it out.
#
#   bake build -var 'copy_regions=["eu-west-1"]' examples/amazon-ebs.pkr.hcl
#   AMI=$(bake artifacts web --region eu-west-1 --manifest manifest.json)
#
# tests/amazon_ebs.rs builds it against moto, with SSH to a local server
# (-var ssh_host=127.0.0.1 -var ssh_port=… -var ssh_username=…), since moto's instances do not boot.

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "copy_regions" {
  type    = list(string)
  default = []
}

variable "source_owners" {
  type        = list(string)
  default     = ["136693071363"]
  description = "Who may publish the base AMI: Debian's account."
}

variable "ssh_cidrs" {
  type        = list(string)
  default     = ["0.0.0.0/0"]
  description = "Where SSH to the build instance may come from; narrow it to your network."
}

variable "ssh_username" {
  type    = string
  default = "admin"
}

variable "ssh_host" {
  type        = string
  default     = null
  description = "Where SSH reaches the instance; by default its public address."
}

variable "ssh_port" {
  type    = number
  default = 22
}

data "amazon-ami" "debian" {
  region      = var.region
  filters     = { name = "debian-12-amd64-*" }
  owners      = var.source_owners
  most_recent = true
}

locals {
  stamp = formatdate("YYYYMMDDhhmmss", timestamp())
}

source "amazon-ebs" "web" {
  region        = var.region
  source_ami    = data.amazon-ami.debian.id
  instance_type = "t3.micro"
  ami_name      = "web-${local.stamp}"
  ami_regions   = var.copy_regions

  ssh_username                          = var.ssh_username
  ssh_host                              = var.ssh_host
  ssh_port                              = var.ssh_port
  temporary_key_pair_type               = "ed25519"
  temporary_security_group_source_cidrs = var.ssh_cidrs

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 8
    volume_type           = "gp3"
    delete_on_termination = true
  }

  run_tags = { Name = "bake: web" }
  tags = {
    Name    = "web"
    Base    = "{{ .SourceAMIName }}"
    BaseAMI = "{{ .SourceAMI }}"
  }
  snapshot_tags = { Name = "web root" }
  ssm_parameter = "/images/web/latest"
}

build {
  sources = ["source.amazon-ebs.web"]

  provisioner "shell" {
    inline = ["echo web built by bake from ${build.SourceAMIName} > $HOME/built-by-bake"]
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
