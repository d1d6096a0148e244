# expect: TODO
locals {
  home = env("HOME")
}
