# expect: TODO
variable region {
  type = string
}
