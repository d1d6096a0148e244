# A web server image: a Debian base disk made from the machine's Debian
# mirror, booted under QEMU, given nginx and a page over SSH, rebooted to
# prove the service comes up on its own, and saved as web.qcow2.
#
#   bake build examples/web.pkr.hcl
#
# The output lands in output/web/web.qcow2, the manifest in
# output/web-manifest.json.

packer {
  required_version = ">= 1.9.0"
}

variable "suite" {
  type        = string
  default     = "bookworm"
  description = "The Debian release of the base image."
}

variable "disk_size" {
  type    = string
  default = "4G"
}

variable "accelerator" {
  type        = string
  default     = null
  description = "kvm, tcg or none; detected when unset."
}

data "debootstrap" "base" {
  suite = var.suite
}

source "qemu" "web" {
  # Start from the base disk instead of an installer ISO.
  disk_image   = true
  iso_url      = data.debootstrap.base.path
  iso_checksum = "none"

  efi_boot          = true
  efi_firmware_code = data.debootstrap.base.efi_firmware_code
  efi_firmware_vars = data.debootstrap.base.efi_firmware_vars

  accelerator = var.accelerator
  cpus        = 2
  memory      = 1024
  disk_size   = var.disk_size
  format      = "qcow2"
  headless    = true

  # No password or key given: bake makes a key for this build and hands it
  # to the guest's cloud-init.
  ssh_username = "debian"
  ssh_timeout  = "15m"

  output_directory = "output/web"
  vm_name          = "web.qcow2"
}

build {
  sources = ["source.qemu.web"]

  provisioner "file" {
    source      = "${path.root}/web/index.html"
    destination = "/tmp/index.html"
  }

  provisioner "shell" {
    environment_vars = ["DEBIAN_FRONTEND=noninteractive"]
    inline = [
      "sudo -E apt-get update -q",
      "sudo -E apt-get install -y -q --no-install-recommends nginx",
      "sudo install -m 0644 /tmp/index.html /var/www/html/index.html",
      "sudo systemctl enable nginx",
    ]
  }

  # Reboot, and check after it that nginx started on its own.
  provisioner "shell" {
    inline            = ["sudo systemctl reboot"]
    expect_disconnect = true
  }

  provisioner "shell" {
    inline = [
      "systemctl is-active nginx",
      "grep -q 'Baked by bake' /var/www/html/index.html",
      # Let the next boot of the image take its own cloud-init seed.
      "sudo cloud-init clean --logs",
    ]
  }

  post-processor "manifest" {
    output = "output/web-manifest.json"
  }
}
