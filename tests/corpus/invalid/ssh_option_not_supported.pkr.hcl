# expect: ssh_option_not_supported.pkr.hcl:7:20: bake does not support "ssh_proxy_host" yet (in source "null.remote").\nHelp: connect through an SSH jump host with ssh_bastion_host
source "null" "remote" {
  communicator   = "ssh"
  ssh_host       = "10.0.0.5"
  ssh_username   = "admin"
  ssh_password   = "x"
  ssh_proxy_host = "socks.example.com"
}

build {
  sources = ["source.null.remote"]
}
