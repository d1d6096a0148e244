disk_size = "twenty"
tags      = { team = "images" }
