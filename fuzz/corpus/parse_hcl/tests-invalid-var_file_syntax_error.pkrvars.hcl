disk_size = 40
tags = {
  team = "images"
  owner "ops"
}
