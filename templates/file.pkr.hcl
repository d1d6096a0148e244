# A starter template: the file builder makes an artifact out of one file, with
# no machine, so post-processors can be tried in a second.
# Try: bake build file.pkr.hcl

variable "greeting" {
  type    = string
  default = "hello"
}

# The null data source hands its input back as its output.
data "null" "motd" {
  input = "${var.greeting} from bake"
}

source "file" "example" {
  content = "${data.null.motd.output}\n"   # or: source = "path/to/a/file"
  target  = "output/motd.txt"
}

build {
  sources = ["source.file.example"]

  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "output/{{ .BuildName }}.{{ .ChecksumType }}"
  }
}
