# expect: var_file_syntax_error.pkrvars.hcl:4:10: Invalid HCL syntax
# args: -var-file=var_file_syntax_error.pkrvars.hcl
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
