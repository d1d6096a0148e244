# expect: required_plugins_malformed_source.pkr.hcl:6:17: "amazon" is not a plugin source address: it must be HOSTNAME/NAMESPACE/NAME
packer {
  required_plugins {
    amazon = {
      version = ">= 1.2.0"
      source  = "amazon"
    }
  }
}

source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
}
