build {
  name    = "platform"
  sources = ["source.null.base"]

  provisioner "shell-local" {
    inline = ["echo ${local.name_prefix} ${var.instance.size} ${local.total_disk}GB '${jsonencode(local.tags)}'"]
  }
}
