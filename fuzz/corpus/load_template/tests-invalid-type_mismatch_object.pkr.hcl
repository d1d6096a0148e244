# expect: type_mismatch_object.pkr.hcl:7:13: attribute "memory" is required
variable "vm" {
  type = object({
    cpus   = number
    memory = number
  })
  default = {
    cpus = 2
  }
}
