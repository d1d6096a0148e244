disk_size = 40

source "null" "other" {
  communicator = "none"
}
