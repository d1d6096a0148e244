# expect: TODO
source "null" {
  communicator = "none"
}
