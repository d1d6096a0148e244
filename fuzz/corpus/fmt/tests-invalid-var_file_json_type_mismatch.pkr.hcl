# expect: var_file_json_type_mismatch.pkrvars.json:3:11: does not fit its type map(string)
# args: -var-file=var_file_json_type_mismatch.pkrvars.json
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
