# expect: ssh_option_not_supported.pkr.hcl:7:23: bake does not support "ssh_local_tunnels" yet (in source "null.remote").\nHelp: remove ssh_local_tunnels; a provisioner can open its own tunnel with ssh -L
source "null" "remote" {
  communicator      = "ssh"
  ssh_host          = "10.0.0.5"
  ssh_username      = "admin"
  ssh_password      = "x"
  ssh_local_tunnels = ["8080:localhost:80"]
}

build {
  sources = ["source.null.remote"]
}
