locals {
  name_prefix = "${var.environment}-${var.region}"
  total_disk  = sum(var.instance.disks)
  tags = {
    environment = var.environment
    size        = var.instance.size
    root        = path.root
  }
}
