# env: SSH_AUTH_SOCK=
# expect: ssh_agent_auth_without_agent.pkr.hcl:7:20: ssh_agent_auth = true, but SSH_AUTH_SOCK is not set.\nHelp: start an agent and add the key
source "null" "remote" {
  communicator   = "ssh"
  ssh_host       = "10.0.0.5"
  ssh_username   = "admin"
  ssh_agent_auth = true
}

build {
  sources = ["source.null.remote"]
}
