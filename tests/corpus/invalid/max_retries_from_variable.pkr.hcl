# expect: max_retries_from_variable.pkr.hcl:14:19: "max_retries" must be a whole number, not "many"
variable "retries" {
  default = "many"
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    max_retries = var.retries
    inline      = ["echo hi"]
  }
}
