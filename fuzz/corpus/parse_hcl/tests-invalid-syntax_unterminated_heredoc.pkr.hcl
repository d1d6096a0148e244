# expect: syntax_unterminated_heredoc.pkr.hcl:6:1: Unterminated template string
locals {
  script = <<EOT
echo hello
echo world
