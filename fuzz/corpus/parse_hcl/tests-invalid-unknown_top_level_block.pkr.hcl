# expect: unknown_top_level_block.pkr.hcl:2:1: did you mean "source"?
sorce "null" "web" {
  communicator = "none"
}
