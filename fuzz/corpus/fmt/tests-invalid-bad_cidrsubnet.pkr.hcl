# expect: bad_cidrsubnet.pkr.hcl:3:38: insufficient address space to extend prefix of 16 by 20
locals {
  subnet = cidrsubnet("10.0.0.0/16", 20, 1)
}
