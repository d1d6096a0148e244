# expect: communicator_key_typo.pkr.hcl:6:3: An argument named "ssh_usernme" is not expected in source "null.remote".\nHelp: did you mean "ssh_username"?
source "null" "remote" {
  communicator = "ssh"
  ssh_host     = "10.0.0.5"
  ssh_password = "x"
  ssh_usernme  = "admin"
}

build {
  sources = ["source.null.remote"]
}
