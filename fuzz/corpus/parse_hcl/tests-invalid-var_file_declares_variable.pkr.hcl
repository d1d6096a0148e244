# expect: var_file_declares_variable.pkrvars.hcl:3:1: A var file sets values of variables; it cannot declare them
# args: -var-file=var_file_declares_variable.pkrvars.hcl
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
