# expect: TODO
variable "vm" {
  type = object({
    cpus   = number
    memory = number
  })
  default = {
    cpus = 2
  }
}
