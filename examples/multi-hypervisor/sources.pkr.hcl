# One machine, three hypervisors. bake builds the qemu source; the others
# are skipped with a warning when a run selects only qemu (-only 'qemu.*').

data "debootstrap" "base" {
  suite = "bookworm"
}

source "qemu" "vm" {
  disk_image        = true
  iso_url           = data.debootstrap.base.path
  iso_checksum      = "none"
  efi_boot          = true
  efi_firmware_code = data.debootstrap.base.efi_firmware_code
  efi_firmware_vars = data.debootstrap.base.efi_firmware_vars

  accelerator = var.accelerator
  cpus        = 2
  memory      = 1024
  disk_size   = var.disk_size_mb
  format      = "qcow2"
  headless    = true
  cd_files    = var.cd_files

  ssh_username = var.ssh_username
  ssh_timeout  = "15m"

  output_directory = "output/${var.os}-qemu"
  vm_name          = "${var.os}.qcow2"
}

source "virtualbox-iso" "vm" {
  guest_os_type        = var.is_windows ? "Windows2019_64" : "Debian_64"
  iso_url              = var.iso_url
  iso_checksum         = var.iso_checksum
  disk_size            = var.disk_size_mb
  guest_additions_mode = var.is_windows ? "attach" : "upload"
  ssh_username         = var.ssh_username
  shutdown_command     = "sudo poweroff"
  output_directory     = "output/${var.os}-virtualbox"
}

source "vmware-iso" "vm" {
  guest_os_type    = var.is_windows ? "windows9srv-64" : "debian10-64"
  iso_url          = var.iso_url
  iso_checksum     = var.iso_checksum
  disk_size        = var.disk_size_mb
  ssh_username     = var.ssh_username
  shutdown_command = "sudo poweroff"
  output_directory = "output/${var.os}-vmware"
}
