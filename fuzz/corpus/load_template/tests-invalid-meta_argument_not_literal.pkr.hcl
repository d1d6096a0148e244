# expect: meta_argument_not_literal.pkr.hcl:15:14: "only" must be a list of literal strings
variable "targets" {
  type    = list(string)
  default = ["null.a"]
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    only   = var.targets
    inline = ["echo hi"]
  }
}
