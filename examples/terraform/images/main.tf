# Reads bake's manifest and picks the latest artifact of one build. No
# provider, no resource: `terraform console` and `terraform apply` work here
# without downloading anything.

terraform {
  required_version = ">= 1.3"
}

locals {
  manifest = jsondecode(file(var.manifest_path))

  # Runs append to the manifest, so the last entry of a build is its latest.
  entries = [
    for b in local.manifest.builds : b
    if try(b.bake.build, "") == var.build || b.name == var.build
  ]
  latest = length(local.entries) > 0 ? local.entries[length(local.entries) - 1] : null

  # bake records region → image id under bake.region_images; Packer's
  # amazon builders write it into artifact_id as "us-east-1:ami-1,eu-west-1:ami-2".
  region_images = local.latest == null ? {} : merge(
    {
      for pair in split(",", local.latest.artifact_id) :
      split(":", pair)[0] => split(":", pair)[1]
      if length(split(":", pair)) == 2
    },
    try(local.latest.bake.region_images, {}),
  )

  image_id = (
    local.latest == null ? null :
    var.region == null ? local.latest.artifact_id :
    lookup(local.region_images, var.region, null)
  )

  files = local.latest == null ? [] : try(
    local.latest.bake.files,
    [for f in local.latest.files : { path = f.name, size = f.size, sha256 = null }],
  )
}
