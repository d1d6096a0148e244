source "null" "base" {
  communicator = "none"
}
