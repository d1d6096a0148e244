# expect: syntax_missing_equals.pkr.hcl:3:22: expected `{`
source "null" "web" {
  communicator "none"
}
