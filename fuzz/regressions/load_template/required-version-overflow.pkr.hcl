packer {
  required_version = "~> 1.18446744073709551615.0"
}
