build {
  name = "learn-packer"
  sources = [
    "source.amazon-ebs.ubuntu",
    "source.docker.ubuntu"
  ]

  provisioner "shell" {
    environment_vars = [
      "FOO=hello world",
    ]
    inline = [
      "echo Installing Redis",
      "sleep 30",
      "sudo apt-get install -y redis-server",
    ]
    only = ["amazon-ebs.ubuntu"]
  }



  provisioner "shell" {
    inline = ["echo This provisioner runs last"]
  }
  post-processor "manifest" {}
}
