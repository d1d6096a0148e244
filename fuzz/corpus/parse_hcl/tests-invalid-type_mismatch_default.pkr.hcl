# expect: type_mismatch_default.pkr.hcl:4:13: The value "twenty" for "disk_size" (from default) does not fit its type number: a number is required
variable "disk_size" {
  type    = number
  default = "twenty"
}
