# expect: shell_local_nothing_to_run.pkr.hcl:9:3: needs one of "inline", "script", "scripts" or "command"
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    environment_vars = ["A=1"]
  }
}
