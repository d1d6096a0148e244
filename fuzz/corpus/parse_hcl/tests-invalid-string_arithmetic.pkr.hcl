# expect: string_arithmetic.pkr.hcl:3:10: a number is required, but this is the string "20G"
locals {
  disk = "20G" + 10
}
