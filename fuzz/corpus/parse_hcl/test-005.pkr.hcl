variable "tags" {
  type    = map(string)
  default = {}
  validation {
    condition     = length(var.tags) > 0
    error_message = "Need tags."
  }
}

source "docker" "img" {
  image  = "ubuntu:22.04"
  commit = true
  dynamic "changes" {
    for_each = var.changes
    content {
      value = changes.value
    }
  }
}
