disk_size = var.default_size * 2
