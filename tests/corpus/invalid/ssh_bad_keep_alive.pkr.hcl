# expect: ssh_bad_keep_alive.pkr.hcl:4:29: ssh_keep_alive_interval: "often" is not a duration
source "qemu" "vm" {
  ssh_username            = "debian"
  ssh_keep_alive_interval = "often"
  iso_url                 = "disk.qcow2"
  iso_checksum            = "none"
  disk_image              = true
}

build {
  sources = ["source.qemu.vm"]
}
