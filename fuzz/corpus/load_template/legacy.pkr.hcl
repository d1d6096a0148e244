locals {
  stamp   = legacy_isotime("2006-01-02")
  when    = timeadd("2024-01-01T00:00:00Z", "36h")
  y       = yamldecode("a: [1, {b: c}]\nd: ~\n")
  csv     = csvdecode("a,b\n1,2\n3,4\n")
  padded  = format("%05d-%-8s|%.2f", 42, "x", 3.14159)
  list    = formatlist("%s=%d", ["a", "b"], [1, 2])
  ind     = indent(2, "a\nb\nc")
  sorted  = sort(distinct(flatten([["b", "a"], ["c", "a"]])))
  m       = zipmap(["x", "y"], [1, 2])
  chunks  = chunklist(range(0, 10, 3), 2)
  prod    = setproduct(["a", "b"], [1, 2])
  x       = lookup(local.m, "z", 0)
  mask    = cidrnetmask("172.16.0.0/12")
  sub     = cidrsubnet("fd00::/8", 8, 255)
  u5      = uuidv5("dns", "example.com")
  hashes  = [md5("a"), sha1("a"), sha512("a")]
  parsed  = parseint("ff", 16)
  dyn     = [for i, v in ["a", "b"] : "${i}:${v}" if v != "c"]
  grouped = { for s in ["aa", "ab", "ba"] : substr(s, 0, 1) => s... }
  splat   = [{ a = 1 }, { a = 2 }].*.a
  cond    = length(local.dyn) > 1 ? "many" : "few"
  nested  = tomap({ a = tolist(toset(["x", "y"])) })
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
}
