# expect: TODO
packer {
  required_versions = ">= 1.7.0"
}
