# expect: <value for var.tags from -var tags>:1:7: Variables not allowed
# args: -var tags={team=var.team}
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
