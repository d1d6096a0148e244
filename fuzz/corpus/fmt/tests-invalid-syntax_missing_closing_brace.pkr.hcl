# expect: syntax_missing_closing_brace.pkr.hcl:2:21: Unclosed configuration block
source "null" "web" {
  communicator = "none"

build {
  sources = ["source.null.web"]
}
