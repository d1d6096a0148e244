# expect: ssh_unknown_cipher.pkr.hcl:7:18: ssh_ciphers: bake does not support "arcfour". Supported:
source "qemu" "vm" {
  iso_url      = "disk.qcow2"
  iso_checksum = "none"
  disk_image   = true
  ssh_username = "debian"
  ssh_ciphers  = ["aes256-ctr", "arcfour"]
}

build {
  sources = ["source.qemu.vm"]
}
