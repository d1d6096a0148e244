disk_size = 40

variable "tags" {
  default = {}
}
