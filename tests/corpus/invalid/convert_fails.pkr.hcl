# expect: TODO
locals {
  ports = convert(["80", "http"], list(number))
}
