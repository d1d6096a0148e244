# expect: var_file_unexpected_block.pkrvars.hcl:3:1: not "source" blocks
# args: -var-file=var_file_unexpected_block.pkrvars.hcl
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
