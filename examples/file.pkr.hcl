# Artifacts without a machine: the file builder (one file, from text or a
# copy) and the null data source, feeding post-processor chains. Packer's
# documentation uses them to try post-processors; this runs in a second.
#
#   bake build examples/file.pkr.hcl     # → output/file/
#
# Each build writes one file; one chain packs it into a .tar.gz with its
# checksum, another makes a Vagrant box for Packer's `file` provider.

data "null" "release" {
  input = "2026.12"
}

locals {
  notes = "Release ${data.null.release.output}: the web page below is what examples/web.pkr.hcl serves.\n"
}

source "file" "notes" {
  content = local.notes
  target  = "output/file/NOTES.txt"
}

source "file" "page" {
  source = "${path.root}/web/index.html"
  target = "output/file/index.html"
}

build {
  sources = ["source.file.notes", "source.file.page"]

  post-processors {
    post-processor "compress" {
      output              = "output/file/{{ .BuildName }}.tar.gz"
      keep_input_artifact = true
    }
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "output/file/{{ .BuildName }}.sha256"
    }
  }

  post-processor "vagrant" {
    output              = "output/file/{{ .BuildName }}-{{ .Provider }}.box"
    keep_input_artifact = true
  }
}
