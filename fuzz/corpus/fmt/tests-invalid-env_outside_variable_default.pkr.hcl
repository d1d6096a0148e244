# expect: env_outside_variable_default.pkr.hcl:3:10: Call to function "env" not allowed here
locals {
  home = env("HOME")
}
