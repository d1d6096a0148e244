locals {
  a = <<EOF
plain ${upper("x")}
EOF
  b = <<-EOT
      indented
        more
      %{~ for x in [1,2] ~}
      ${x}
      %{~ endfor ~}
    EOT
  c = "esc \" \\ \n \t \u00e9 $${not} %%{not}"
  d = "${"nested ${"deep ${1 + 2}"}"}"
}
source "null" "x" { communicator = "none" }
build { sources = ["source.null.x"] }
