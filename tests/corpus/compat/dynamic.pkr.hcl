# `dynamic "source"` in a build: one build per element of a variable, with
# arguments added to the source from the element.
variable "flavours" {
  type    = map(string)
  default = { small = "1", large = "4" }
}

source "null" "base" {
  communicator = "none"
}

build {
  dynamic "source" {
    for_each = var.flavours
    labels   = ["null.base"]
    content {
      name = "base-${source.key}"
    }
  }

  provisioner "shell-local" {
    inline = ["echo flavour ${source.name}"]
  }
}
