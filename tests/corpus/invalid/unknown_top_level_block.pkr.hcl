# expect: TODO
sorce "null" "web" {
  communicator = "none"
}
