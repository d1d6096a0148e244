# expect: communicator_invalid.pkr.hcl:3:18: communicator must be "none" or "ssh", not "telnet"
source "null" "old" {
  communicator = "telnet"
}

build {
  sources = ["source.null.old"]
}
