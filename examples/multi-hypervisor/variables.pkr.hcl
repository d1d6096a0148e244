# The inputs of the multi-hypervisor template. Each OS has a variables file
# beside this one (debian.pkrvars.hcl, windows.pkrvars.hcl).

variable "os" {
  type        = string
  description = "The guest's name in output paths and box names."
}

variable "is_windows" {
  type    = bool
  default = false
}

variable "sources_enabled" {
  type        = list(string)
  description = "The hypervisors to build for; pick one with -only too."
  default     = ["source.qemu.vm", "source.virtualbox-iso.vm", "source.vmware-iso.vm"]
}

variable "iso_url" {
  type        = string
  default     = null
  description = "An installer ISO for the virtualbox and vmware sources."
}

variable "iso_checksum" {
  type    = string
  default = "none"
}

variable "cd_files" {
  type        = list(string)
  default     = null
  description = "Extra files on a CD for the guest; none by default."
}

variable "accelerator" {
  type        = string
  default     = null
  description = "kvm, tcg or none for qemu; detected when unset."
}

variable "disk_size_mb" {
  type    = number
  default = 4096
}

variable "ssh_username" {
  type    = string
  default = "debian"
}
