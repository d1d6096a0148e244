environment = "staging"
instance = {
  size  = "large"
  disks = [20, 30]
}
