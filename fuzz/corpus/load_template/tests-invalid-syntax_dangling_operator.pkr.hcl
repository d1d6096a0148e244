# expect: syntax_dangling_operator.pkr.hcl:3:17: Invalid HCL syntax
locals {
  disk_gb = 10 *
}
