# expect: packer_block_unknown_argument.pkr.hcl:3:3: did you mean "required_version"?
packer {
  required_versions = ">= 1.7.0"
}
