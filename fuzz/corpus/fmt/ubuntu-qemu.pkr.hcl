packer {
  required_version = ">= 1.9.0"
  required_plugins {
    qemu = {
      version = ">= 1.0.9"
      source  = "github.com/hashicorp/qemu"
    }
  }
}

variable "ubuntu_version" {
  type        = string
  default     = "22.04"
  description = "Ubuntu release to bake"
  validation {
    condition     = can(regex("^\\d+\\.\\d+$", var.ubuntu_version))
    error_message = "The ubuntu_version must look like 22.04."
  }
}

variable "disk_size" {
  type    = number
  default = 8192
}

variable "ssh_password" {
  type      = string
  default   = "ubuntu"
  sensitive = true
}

variable "extra_packages" {
  type    = list(string)
  default = ["curl", "jq", "htop"]
}

locals {
  timestamp  = regex_replace(timestamp(), "[- TZ:]", "")
  image_name = "ubuntu-${var.ubuntu_version}-${local.timestamp}"
  iso_url    = "https://releases.ubuntu.com/${var.ubuntu_version}/ubuntu-${var.ubuntu_version}-live-server-amd64.iso"
  packages   = join(" ", concat(["openssh-server"], var.extra_packages))
}

source "qemu" "ubuntu" {
  iso_url          = local.iso_url
  iso_checksum     = "file:https://releases.ubuntu.com/${var.ubuntu_version}/SHA256SUMS"
  output_directory = "output/${local.image_name}"
  disk_size        = "${var.disk_size}M"
  format           = "qcow2"
  accelerator      = "kvm"
  memory           = 2048
  cpus             = 2
  http_directory   = "http"
  ssh_username     = "ubuntu"
  ssh_password     = var.ssh_password
  ssh_timeout      = "30m"
  vm_name          = "${local.image_name}.qcow2"
  boot_wait        = "5s"
  boot_command = [
    "<esc><wait>",
    "linux /casper/vmlinuz autoinstall ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ ---<enter>",
    "initrd /casper/initrd<enter>",
    "boot<enter>",
  ]
  shutdown_command = "echo '${var.ssh_password}' | sudo -S shutdown -P now"
}

build {
  name    = "base"
  sources = ["source.qemu.ubuntu"]

  provisioner "shell" {
    execute_command = "echo '${var.ssh_password}' | {{ .Vars }} sudo -S -E sh -eux '{{ .Path }}'"
    inline = [
      "apt-get update",
      "apt-get install -y ${local.packages}",
    ]
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      version = var.ubuntu_version
    }
  }
}
