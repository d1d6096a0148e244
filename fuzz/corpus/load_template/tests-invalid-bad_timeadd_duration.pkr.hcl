# expect: bad_timeadd_duration.pkr.hcl:3:45: unknown unit " week" in duration "1 week"
locals {
  expires = timeadd("2024-01-01T00:00:00Z", "1 week")
}
