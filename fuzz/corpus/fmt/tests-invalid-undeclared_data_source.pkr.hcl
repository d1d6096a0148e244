# expect: undeclared_data_source.pkr.hcl:3:10: A data source "debootstrap.base" has not been declared
locals {
  base = data.debootstrap.base.path
}
