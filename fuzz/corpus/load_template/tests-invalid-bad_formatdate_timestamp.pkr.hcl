# expect: bad_formatdate_timestamp.pkr.hcl:3:34: not a valid RFC3339 timestamp: cannot use "yesterday" as year
locals {
  day = formatdate("YYYY-MM-DD", "yesterday")
}
