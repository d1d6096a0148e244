# expect: required_version_unmet.pkr.hcl:3:22: This template requires Packer >= 99.0.0
packer {
  required_version = ">= 99.0.0"
}
