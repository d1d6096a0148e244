# expect: TODO
source "null" "web" {
  communicator "none"
}
