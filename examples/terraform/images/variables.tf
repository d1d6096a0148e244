variable "manifest_path" {
  description = "The manifest bake's manifest post-processor writes (packer-manifest.json)."
  type        = string
}

variable "build" {
  description = "The build whose latest artifact is wanted: bake's full name (images.amazon-ebs.web) or Packer's source name (web)."
  type        = string
}

variable "region" {
  description = "The region whose image id image_id is; null for artifacts that are not regional (a qcow2 disk, a container)."
  type        = string
  default     = null
}
