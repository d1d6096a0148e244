# expect: env_var_type_mismatch.pkr.hcl:8:10: The value [1, 2] for "tags" (from environment variable PKR_VAR_tags) does not fit its type map(string)
# env: PKR_VAR_tags=[1, 2]
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
