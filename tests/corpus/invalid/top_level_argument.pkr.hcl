# expect: TODO
region = "eu-west-1"

source "null" "web" {
  communicator = "none"
}
