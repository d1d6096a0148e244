# Dynamic blocks in a source: one block per element of a collection.
# The null builder takes no nested blocks, so with disks declared it
# rejects the generated "disk" blocks by name; with none, there is none.

variable "disks" {
  type = list(object({
    name = string
    size = number
  }))
  default = []
}

source "null" "vm" {
  communicator = "none"

  dynamic "disk" {
    for_each = var.disks
    iterator = d
    labels   = [d.value.name]

    content {
      size = d.value.size * 1024
      index = d.key

      dynamic "partition" {
        for_each = range(2)
        content {
          number = partition.value
          owner  = d.value.name
        }
      }
    }
  }
}

build {
  sources = ["source.null.vm"]
}
