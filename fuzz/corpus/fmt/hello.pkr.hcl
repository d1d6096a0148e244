# The smallest useful bake: no machine, a provisioner that runs here, and a
# manifest that records the build.

variable "greeting" {
  type    = string
  default = "hello"
}

variable "api_token" {
  type      = string
  default   = "s3cr3t-t0ken"
  sensitive = true
}

source "null" "hello" {
  communicator = "none"
}

build {
  name = "example"

  source "null.hello" {
    name = "web"
  }

  source "null.hello" {
    name = "worker"
  }

  provisioner "shell-local" {
    environment_vars = ["TOKEN=${var.api_token}"]
    inline = [
      "echo '${var.greeting} from ${source.name}'",
      "echo \"the token is $TOKEN\"",
    ]
  }

  post-processor "manifest" {
    output     = "hello-manifest.json"
    strip_path = true
  }
}
