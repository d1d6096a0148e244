# expect: var_file_uses_variable.pkrvars.hcl:1:13: Variables not allowed
# args: -var-file=var_file_uses_variable.pkrvars.hcl
variable "disk_size" {
  type    = number
  default = 20
}

variable "tags" {
  type    = map(string)
  default = {}
}

source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]
}
