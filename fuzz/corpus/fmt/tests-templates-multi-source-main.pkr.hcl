# Two builds over shared sources: nested source blocks rename and extend
# them, and provisioners and post-processors pick the sources they apply
# to with only, except and override.

source "null" "ubuntu" {
  communicator = "none"
}

source "null" "debian" {
  communicator = "none"
}

build {
  name = "app"

  sources = ["source.null.ubuntu", "source.null.debian"]

  # The same source once more, under another name.
  source "source.null.ubuntu" {
    name = "ubuntu-canary"
  }

  provisioner "shell-local" {
    inline = ["echo common on ${source.type}.${source.name} in ${build.name}"]
  }

  provisioner "shell-local" {
    only   = ["null.ubuntu-canary"]
    inline = ["echo only-canary on ${source.name}"]
  }

  provisioner "shell-local" {
    except = ["null.debian"]
    inline = ["echo except-debian on ${source.name}"]
  }

  provisioner "shell-local" {
    inline = ["echo default-step on ${source.name}"]
    override = {
      # Keyed by the source's name, or by TYPE.NAME.
      ubuntu-canary = {
        inline = ["echo canary-step on ${source.name}"]
      }
      "null.debian" = {
        inline = ["echo debian-step on ${source.name}"]
      }
    }
  }

  post-processor "shell-local" {
    except = ["null.ubuntu-canary"]
    inline = ["echo post-processed $PACKER_BUILD_NAME"]
  }
}

build {
  name    = "db"
  sources = ["source.null.debian"]

  provisioner "shell-local" {
    inline = ["echo db on ${source.name}"]
  }
}
