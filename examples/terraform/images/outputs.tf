output "image_id" {
  description = "The image id in var.region (an AMI id), or the artifact id when var.region is null."
  value       = local.image_id

  precondition {
    condition     = local.latest != null
    error_message = "The manifest has no build named \"${var.build}\": run bake build first, or check var.build."
  }

  precondition {
    condition     = local.latest == null || local.image_id != null
    error_message = "The latest artifact of \"${var.build}\" has no image in region ${coalesce(var.region, "-")}."
  }
}

output "region_images" {
  description = "Region → image id of the latest artifact (empty when it is not regional)."
  value       = local.region_images
}

output "artifact_id" {
  description = "The latest artifact's id."
  value       = try(local.latest.artifact_id, null)
}

output "format" {
  description = "The artifact's format as bake recorded it (qcow2, raw, …), or null."
  value       = try(local.latest.bake.format, null)
}

output "files" {
  description = "The artifact's files: path, size and sha256."
  value       = local.files
}

output "run_uuid" {
  description = "The bake run that made the artifact."
  value       = try(local.latest.packer_run_uuid, null)
}

output "git_commit" {
  description = "The commit of the template that made the artifact, when bake knew it."
  value       = try(local.latest.bake.template.git_commit, null)
}
