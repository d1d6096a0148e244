# An autoscaling group that runs the latest image bake built. A new image
# (a new bake build, a new entry in the manifest) changes the launch
# template's image_id; the new template version starts an instance refresh,
# which replaces the group's instances a few at a time.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

# Locals and outputs only: which image, read from bake's manifest.
module "images" {
  source        = "./images"
  manifest_path = var.manifest_path
  build         = var.build
  region        = var.region
}

resource "aws_launch_template" "this" {
  name_prefix   = "${var.name}-"
  image_id      = module.images.image_id
  instance_type = var.instance_type

  tag_specifications {
    resource_type = "instance"
    tags = {
      Name           = var.name
      bake_run_uuid  = module.images.run_uuid
      bake_build     = var.build
      bake_image_sha = try(module.images.files[0].sha256, "")
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_autoscaling_group" "this" {
  name_prefix         = "${var.name}-"
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.desired_capacity
  vpc_zone_identifier = var.subnet_ids

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # A change of the launch template (a new image) starts a refresh.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = var.min_healthy_percentage
    }
    triggers = ["tag"]
  }

  tag {
    key                 = "bake_image_id"
    value               = module.images.image_id
    propagate_at_launch = true
  }

  lifecycle {
    ignore_changes = [desired_capacity]
  }
}
