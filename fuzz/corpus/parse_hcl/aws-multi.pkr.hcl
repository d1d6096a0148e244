variable "regions" {
  type    = list(string)
  default = ["eu-west-1", "us-east-1"]
}

variable "tags" {
  type = map(string)
  default = {
    Owner   = "platform"
    Project = "bake"
  }
}

variable "instance" {
  type = object({
    type    = string
    volume  = optional(number, 20)
    spot    = optional(bool)
  })
  default = { type = "t3.micro" }
}

data "amazon-ami" "ubuntu" {
  filters = {
    name                = "ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*"
    root-device-type    = "ebs"
    virtualization-type = "hvm"
  }
  most_recent = true
  owners      = ["099720109477"]
}

locals {
  ami_name = "app-${formatdate("YYYYMMDD-hhmm", timestamp())}"
  all_tags = merge(var.tags, { Name = local.ami_name, Built = timestamp() })
  subnets  = cidrsubnets("10.0.0.0/16", 4, 4, 8)
  by_region = { for r in var.regions : r => upper(r) }
  first_host = cidrhost(local.subnets[0], 5)
}

source "amazon-ebs" "app" {
  ami_name      = local.ami_name
  instance_type = var.instance.type
  region        = var.regions[0]
  ami_regions   = slice(var.regions, 1, length(var.regions))
  source_ami    = data.amazon-ami.ubuntu.id
  ssh_username  = "ubuntu"
  tags          = local.all_tags

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = var.instance.volume
    volume_type           = "gp3"
    delete_on_termination = true
  }

  dynamic "tag" {
    for_each = local.all_tags
    content {
      key   = tag.key
      value = tag.value
    }
  }
}

build {
  sources = ["source.amazon-ebs.app"]

  provisioner "file" {
    source      = "files/"
    destination = "/tmp"
  }

  provisioner "shell" {
    environment_vars = [for k, v in var.tags : "${upper(k)}=${v}"]
    scripts          = fileset(path.root, "scripts/*.sh")
    only             = ["amazon-ebs.app"]
  }

  post-processors {
    post-processor "manifest" {
      output = "manifest.json"
    }
    post-processor "checksum" {
      checksum_types = ["sha256"]
    }
  }
}
