# expect: variable_extra_label.pkr.hcl:2:1: A variable block takes 1 label, but this one has 2
variable "region" "eu" {
  type = string
}
