# expect: communicator_winrm.pkr.hcl:5:20: null.windows" sets communicator = "winrm", but bake has no WinRM communicator yet.\nHelp: use communicator = "ssh"
# lacks: s3cr3t-Passw0rd
# The winrm_* options are decoded; only choosing WinRM is refused.
source "null" "windows" {
  communicator   = "winrm"
  winrm_username = "Administrator"
  winrm_password = "s3cr3t-Passw0rd"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_timeout  = "1h"
}

build {
  sources = ["source.null.windows"]
}
