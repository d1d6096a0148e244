# expect: shell_local_script_not_found.pkr.hcl:10:14: The script "scripts/does-not-exist.sh" does not exist
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  provisioner "shell-local" {
    script = "scripts/does-not-exist.sh"
  }
}
