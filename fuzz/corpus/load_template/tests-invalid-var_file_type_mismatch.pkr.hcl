# expect: var_file_type_mismatch.pkrvars.hcl:1:13: The value "twenty" for "disk_size" (from var_file_type_mismatch.pkrvars.hcl) does not fit its type number
# args: -var-file=var_file_type_mismatch.pkrvars.hcl
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
