# Meta-arguments computed from variables and locals, and null meaning "not
# set", as real templates write them.
variable "build_name" {
  type    = string
  default = "images"
}

variable "sources_enabled" {
  type    = list(string)
  default = ["source.null.linux", "source.null.windows"]
}

variable "is_windows" {
  type    = bool
  default = false
}

variable "retries" {
  type    = number
  default = 2
}

variable "pause" {
  type    = string
  default = "1ms"
}

variable "env" {
  type    = list(string)
  default = null
}

locals {
  timeout   = "30s"
  pp_only   = ["null.linux"]
  step_name = "greet-${var.build_name}"
}

source "null" "linux" {
  communicator = "none"
}

source "null" "windows" {
  communicator = "none"
}

build {
  name    = var.build_name
  sources = var.sources_enabled

  provisioner "shell-local" {
    name             = local.step_name
    except           = var.is_windows ? [] : ["null.windows"]
    max_retries      = var.retries
    pause_before     = var.pause
    timeout          = local.timeout
    environment_vars = var.env
    inline           = ["echo greeting ${source.name}"]
  }

  provisioner "shell-local" {
    only   = null
    except = null
    inline = ["echo everywhere ${source.name}"]
  }

  post-processor "shell-local" {
    only   = local.pp_only
    name   = "report"
    inline = ["echo post-processed ${source.name} id=${build.ID} run=${build.PackerRunUUID}"]
  }
}
