variable "region" {
  description = "The AWS region of the group; the image is the latest artifact's AMI in it."
  type        = string
  default     = "eu-west-1"
}

variable "manifest_path" {
  description = "bake's manifest (the manifest post-processor's output)."
  type        = string
  default     = "packer-manifest.json"
}

variable "build" {
  description = "The build whose image the group runs: bake's full name (images.amazon-ebs.web) or the source name (web)."
  type        = string
  default     = "web"
}

variable "name" {
  description = "Prefix of the launch template's and the group's names."
  type        = string
  default     = "web"
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "subnet_ids" {
  description = "Where the group's instances run."
  type        = list(string)
}

variable "min_size" {
  type    = number
  default = 2
}

variable "max_size" {
  type    = number
  default = 4
}

variable "desired_capacity" {
  type    = number
  default = 2
}

variable "min_healthy_percentage" {
  description = "During an instance refresh, the share of the group kept in service."
  type        = number
  default     = 90
}
