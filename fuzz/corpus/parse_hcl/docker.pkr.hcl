variable "image" {
  type    = string
  default = "debian:bookworm-slim"
}

source "docker" "app" {
  image  = var.image
  commit = true
  changes = [
    "ENV APP_ENV=production",
    "ENTRYPOINT [\"/usr/local/bin/app\"]",
  ]
}

build {
  sources = ["source.docker.app"]

  provisioner "shell" {
    inline = ["apt-get update && apt-get install -y ca-certificates"]
  }

  post-processors {
    post-processor "docker-tag" {
      repository = "registry.example.com/app"
      tags       = ["latest", formatdate("YYYY.MM.DD", timestamp())]
    }
    post-processor "docker-push" {}
  }
}
