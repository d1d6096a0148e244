# expect: TODO
source "null" "web" {
  communicator = "none"
}

source "null" "web" {
  communicator = "none"
}
