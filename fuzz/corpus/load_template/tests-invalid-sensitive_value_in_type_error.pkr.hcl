# expect: sensitive_value_in_type_error.pkr.hcl:5:15: The value <sensitive> for "api_token" (from default) does not fit its type number
# lacks: tok-5f3a9c2e
variable "api_token" {
  type      = number
  default   = "tok-5f3a9c2e"
  sensitive = true
}
