# Provision whichever hypervisors are enabled, and make a Vagrant box of
# each image.
#
#   bake build -only 'qemu.*' -var-file examples/multi-hypervisor/debian.pkrvars.hcl examples/multi-hypervisor

build {
  sources = var.sources_enabled

  provisioner "shell" {
    # Linux guests only: skipped everywhere for Windows.
    except = var.is_windows ? ["qemu.vm", "virtualbox-iso.vm", "vmware-iso.vm"] : null
    inline = [
      "echo 'baked for ${var.os} on ${source.type}' | sudo tee /etc/bake-release",
      "sudo cloud-init clean --logs",
    ]
  }

  provisioner "shell" {
    only   = ["virtualbox-iso.vm"]
    inline = ["sudo mount -o loop VBoxGuestAdditions.iso /mnt && sudo /mnt/VBoxLinuxAdditions.run"]
  }

  post-processor "vagrant" {
    output              = "output/boxes/${var.os}-{{ .Provider }}.box"
    compression_level   = 1
    keep_input_artifact = true
  }
}
