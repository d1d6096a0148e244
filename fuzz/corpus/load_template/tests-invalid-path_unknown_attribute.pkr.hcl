# expect: path_unknown_attribute.pkr.hcl:3:21: did you mean "root"?
locals {
  scripts = "${path.rot}/scripts"
}
