# expect: pause_before_without_unit.pkr.hcl:10:20: "pause_before": "5" has no unit; write "5s" for seconds
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  provisioner "shell-local" {
    pause_before = "5"
    inline       = ["echo hi"]
  }
}
