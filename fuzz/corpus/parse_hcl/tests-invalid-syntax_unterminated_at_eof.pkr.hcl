# expect: syntax_unterminated_at_eof.pkr.hcl:4:23: Unterminated template string
variable "region" {
  type    = string
  default = "eu-west-1