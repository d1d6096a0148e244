# Exercises what the null builder and shell-local can do today.
packer {
  required_version = ">= 1.7.0, < 2.0.0"
}

variable "greeting" {
  type    = string
  default = "hello"
}

variable "count" {
  type    = number
  default = 2
}

variable "users" {
  type = list(object({ name = string, uid = number }))
  default = [
    { name = "ann", uid = 1000 },
    { name = "bob", uid = 1001 },
  ]
}

variable "secret" {
  type      = string
  default   = "hunter22"
  sensitive = true
}

locals {
  names     = var.users[*].name
  by_name   = { for u in var.users : u.name => u.uid }
  message   = "${var.greeting}, ${join(" and ", local.names)}"
  numbers   = range(var.count)
  encoded   = base64encode(jsonencode(local.by_name))
  script    = <<-EOT
    #!/bin/sh
    %{ for n in local.names ~}
    echo "user ${n}"
    %{ endfor ~}
    %{ if var.count > 1 }echo many%{ else }echo one%{ endif }
  EOT
  checksum  = sha256(local.script)
  maybe     = try(local.by_name["carol"], -1)
}

source "null" "a" {
  communicator = "none"
}

source "null" "b" {
  communicator = "none"
}

build {
  name    = "app"
  sources = ["source.null.a", "source.null.b"]

  source "null.a" {
    name = "renamed"
  }

  provisioner "shell-local" {
    inline           = ["echo ${local.message}", "echo ${source.name} ${build.ID}"]
    environment_vars = ["SECRET=${var.secret}", "SUM=${local.checksum}"]
    only             = ["null.a"]
  }

  provisioner "shell-local" {
    inline          = [local.script]
    except          = ["null.b"]
    max_retries     = 2
    pause_before    = "1s"
    timeout         = "5m"
    valid_exit_codes = [0, 2]
  }

  provisioner "breakpoint" {
    disable = true
    note    = "look around"
  }

  error-cleanup-provisioner "shell-local" {
    inline = ["echo cleaning up"]
  }

  post-processor "manifest" {
    output     = "out/manifest.json"
    strip_path = true
    custom_data = {
      greeting = var.greeting
      count    = tostring(var.count)
    }
  }

  post-processors {
    post-processor "shell-local" {
      inline = ["echo done"]
    }
  }
}
