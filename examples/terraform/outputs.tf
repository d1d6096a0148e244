output "image_id" {
  description = "The AMI the group runs."
  value       = module.images.image_id
}

output "launch_template_version" {
  description = "The launch template version; it moves with every new image."
  value       = aws_launch_template.this.latest_version
}

output "autoscaling_group_name" {
  value = aws_autoscaling_group.this.name
}
