# Every function of Packer's HCL2 library, each called as a template would,
# next to the value Packer (and Terraform, whose library Packer shares)
# returns for the same call. Most examples come from the functions'
# documentation.
#
# Each `check_*` local is a pair: [what bake computes, what Packer returns].
# tests/functions.rs reads them with `bake inspect --json` and compares the
# two; it also checks that every function of the library appears here.
#
# The test runs in a copy of this directory with HOME=/home/tester and
# BAKE_FUNCTIONS_GREETING=hello set.

variable "greeting" {
  type    = string
  default = env("BAKE_FUNCTIONS_GREETING")
}

variable "unset_env" {
  type    = string
  default = env("BAKE_FUNCTIONS_SURELY_UNSET")
}

locals {
  # A fixed instant, so time functions give known answers.
  instant = "2018-01-02T23:12:01Z"
  now     = timestamp()
}

# --- numeric ----------------------------------------------------------------
locals {
  check_abs_positive  = [abs(23), 23]
  check_abs_zero      = [abs(0), 0]
  check_abs_negative  = [abs(-12.4), 12.4]
  check_ceil_whole    = [ceil(5), 5]
  check_ceil_fraction = [ceil(5.1), 6]
  check_floor_whole   = [floor(5), 5]
  check_floor_frac    = [floor(4.9), 4]
  check_log_base10    = [log(50, 10), 1.6989700043360185]
  check_log_base2     = [log(16, 2), 4]
  check_log_one       = [log(1, 10), 0]
  check_max           = [max(12, 54, 3), 54]
  check_max_expanded  = [max([12, 54, 3]...), 54]
  check_min           = [min(12, 54, 3), 3]
  check_parseint_dec  = [parseint("100", 10), 100]
  check_parseint_hex  = [parseint("FF", 16), 255]
  check_parseint_neg  = [parseint("-10", 16), -16]
  check_parseint_bin  = [parseint("1011111011101111", 2), 48879]
  check_parseint_b62  = [parseint("aA", 62), 656]
  check_parseint_bad  = [can(parseint("12", 2)), false]
  check_pow           = [pow(3, 2), 9]
  check_pow_zero      = [pow(4, 0), 1]
  check_signum_neg    = [signum(-13), -1]
  check_signum_zero   = [signum(0), 0]
  check_signum_pos    = [signum(344), 1]
}

# --- numbers: arbitrary precision, as cty computes ---------------------------
# Compared as text (a lone "${x}" is x itself, so each has a leading "="),
# since JSON would round them to float64. The expected
# strings are what Go's math/big prints for cty's numbers (512-bit literals;
# pow and log in float64), i.e. what Packer interpolates.
locals {
  check_number_sum        = ["=${0.1 + 0.2}", "=0.3"]
  check_number_sum_equal  = [0.1 + 0.2 == 0.3, true]
  check_number_third      = [length("=${1 / 3}"), 158]
  check_number_third_tail = [substr("=${1 / 3}", 151, 7), "3333335"]
  check_number_quarter    = ["=${10 / 4}", "=2.5"]
  check_number_exact_int  = ["=${9007199254740993}", "=9007199254740993"]
  check_number_big        = ["=${1e30}", "=1000000000000000000000000000000"]
  check_number_neg_zero   = ["=${-0}", "=-0"]
  check_number_mod        = ["=${5 % 3} ${-5 % 3}", "=2 -2"]
  check_number_floor      = ["=${floor(-1.5)}", "=-2"]
  check_number_pow_64     = ["=${pow(2, 64)}", "=18446744073709550000"]
  check_number_pow_half   = ["=${pow(2, 0.5)}", "=1.4142135623730951"]
  check_number_json       = [jsonencode(0.1 + 0.2), "0.3"]
  check_number_format     = [format("%.2f %d %v", 1 / 3, 1e30, 0.1 + 0.2), "0.33 1000000000000000000000000000000 0.3"]
  check_number_parseint   = ["=${parseint("ff", 16)}", "=255"]
  check_number_tostring   = [tostring(0.1 + 0.2), "0.3"]
  check_number_inf        = ["=${1 / 0}", "=+Inf"]
}

# --- strings ----------------------------------------------------------------
locals {
  check_chomp_lf        = [chomp("hello\n"), "hello"]
  check_chomp_crlf      = [chomp("hello\r\n"), "hello"]
  check_chomp_many      = [chomp("hello\n\n"), "hello"]
  check_format_s        = [format("Hello, %s!", "Ander"), "Hello, Ander!"]
  check_format_d        = [format("There are %d lights", 4), "There are 4 lights"]
  check_format_f        = [format("%.2f", 3.14159), "3.14"]
  check_format_width    = [format("[%5d|%-5s]", 42, "ab"), "[   42|ab   ]"]
  check_format_x        = [format("%x %X %o %b", 255, 255, 8, 5), "ff FF 10 101"]
  check_format_t        = [format("%t", true), "true"]
  check_format_v        = [format("%v and %v", "text", 12), "text and 12"]
  check_format_json     = [format("%#v", { a = 1 }), "{\"a\":1}"]
  check_format_q        = [format("%q", "hi"), "\"hi\""]
  check_format_percent  = [format("100%%"), "100%"]
  check_format_indexed  = [format("%[2]s %[1]s", "world", "hello"), "hello world"]
  check_formatlist      = [formatlist("Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"]), ["Hello, Valentina!", "Hello, Ander!", "Hello, Olivia!", "Hello, Sam!"]]
  check_formatlist_mix  = [formatlist("%s, %s!", "Salutations", ["Valentina", "Ander"]), ["Salutations, Valentina!", "Salutations, Ander!"]]
  check_indent          = [indent(2, "[\n  foo,\n  bar,\n]\n"), "[\n    foo,\n    bar,\n  ]\n  "]
  check_indent_embedded = ["  items: ${indent(2, "[\n  foo,\n]")}", "  items: [\n    foo,\n  ]"]
  check_join            = [join(", ", ["foo", "bar", "baz"]), "foo, bar, baz"]
  check_join_one        = [join(", ", ["foo"]), "foo"]
  check_join_lists      = [join("-", ["a"], ["b", "c"]), "a-b-c"]
  check_lower           = [lower("HELLO"), "hello"]
  check_lower_unicode   = [lower("АЛЛО!"), "алло!"]
  check_upper           = [upper("hello"), "HELLO"]
  check_upper_unicode   = [upper("алло!"), "АЛЛО!"]
  check_title           = [title("hello world"), "Hello World"]
  check_regex_match     = [regex("[a-z]+", "53453453.345345aaabbbccc23454"), "aaabbbccc"]
  check_regex_groups    = [regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01"), ["2019", "02", "01"]]
  check_regex_named     = [regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/"), { authority = "terraform.io", scheme = "https" }]
  check_regex_nomatch   = [can(regex("[a-z]+", "1234")), false]
  check_regexall        = [regexall("[a-z]+", "1234abcd5678efgh9"), ["abcd", "efgh"]]
  check_regexall_count  = [length(regexall("[a-z]+", "1234abcd5678efgh9")), 2]
  check_regexall_none   = [length(regexall("[a-z]+", "123")) > 0, false]
  check_regexall_groups = [regexall("(\\w)=(\\d)", "a=1 b=2"), [["a", "1"], ["b", "2"]]]
  check_regex_replace   = [regex_replace("hello world", "o", "0"), "hell0 w0rld"]
  check_regex_replace_g = [regex_replace("2019-02-01", "(\\d+)-(\\d+)-(\\d+)", "$3/$2/$1"), "01/02/2019"]
  check_replace         = [replace("1 + 2 + 3", "+", "-"), "1 - 2 - 3"]
  check_replace_regex   = [replace("hello world", "/w.*d/", "everybody"), "hello everybody"]
  check_replace_group   = [replace("hello world", "/(h)(e)/", "$2$1"), "ehllo world"]
  check_split           = [split(",", "foo,bar,baz"), ["foo", "bar", "baz"]]
  check_split_one       = [split(",", "foo"), ["foo"]]
  check_split_empty     = [split(",", ""), [""]]
  check_strrev          = [strrev("hello"), "olleh"]
  check_strrev_unicode  = [strrev("a ☃"), "☃ a"]
  check_substr          = [substr("hello world", 1, 4), "ello"]
  check_substr_unicode  = [substr("🤔🤷", 0, 1), "🤔"]
  check_substr_negative = [substr("hello world", -5, -1), "world"]
  check_substr_past_end = [substr("hello world", 6, 10), "world"]
  check_trim            = [trim("?!hello?!", "!?"), "hello"]
  check_trim_set        = [trim("foobar", "far"), "oob"]
  check_trim_spaces     = [trim("   hello! world.!  ", "! "), "hello! world."]
  check_trimprefix      = [trimprefix("helloworld", "hello"), "world"]
  check_trimprefix_none = [trimprefix("helloworld", "cat"), "helloworld"]
  check_trimsuffix      = [trimsuffix("helloworld", "world"), "hello"]
  check_trimspace       = [trimspace("  hello\n\n"), "hello"]
  check_startswith      = [startswith("hello world", "hello"), true]
  check_startswith_not  = [startswith("hello world", "world"), false]
  check_endswith        = [endswith("hello world", "world"), true]
  check_endswith_not    = [endswith("hello world", "hello"), false]
  check_strcontains     = [strcontains("hello world", "wor"), true]
  check_strcontains_not = [strcontains("hello world", "wod"), false]
}

# --- collections ------------------------------------------------------------
locals {
  check_alltrue           = [alltrue(["true", true]), true]
  check_alltrue_false     = [alltrue([true, false]), false]
  check_alltrue_empty     = [alltrue([]), true]
  check_anytrue           = [anytrue(["true"]), true]
  check_anytrue_mixed     = [anytrue([true, false]), true]
  check_anytrue_empty     = [anytrue([]), false]
  check_chunklist         = [chunklist(["a", "b", "c", "d", "e"], 2), [["a", "b"], ["c", "d"], ["e"]]]
  check_chunklist_one     = [chunklist(["a", "b", "c", "d", "e"], 1), [["a"], ["b"], ["c"], ["d"], ["e"]]]
  check_coalesce          = [coalesce("a", "b"), "a"]
  check_coalesce_empty    = [coalesce("", "b"), "b"]
  check_coalesce_number   = [coalesce(1, 2), 1]
  check_coalesce_null     = [coalesce(null, "x"), "x"]
  check_coalesce_expanded = [coalesce(["", "b"]...), "b"]
  check_coalescelist      = [coalescelist(["a", "b"], ["c", "d"]), ["a", "b"]]
  check_coalescelist_skip = [coalescelist([], ["c", "d"]), ["c", "d"]]
  check_compact           = [compact(["a", "", "b", null, "c"]), ["a", "b", "c"]]
  check_concat            = [concat(["a", ""], ["b", "c"]), ["a", "", "b", "c"]]
  check_contains          = [contains(["a", "b", "c"], "a"), true]
  check_contains_not      = [contains(["a", "b", "c"], "d"), false]
  check_distinct          = [distinct(["a", "b", "a", "c", "d", "b"]), ["a", "b", "c", "d"]]
  check_element           = [element(["a", "b", "c"], 1), "b"]
  check_element_wraps     = [element(["a", "b", "c"], 3), "a"]
  check_element_last      = [element(["a", "b", "c"], length(["a", "b", "c"]) - 1), "c"]
  check_flatten           = [flatten([["a", "b"], [], ["c"]]), ["a", "b", "c"]]
  check_flatten_deep      = [flatten([[["a", "b"], []], ["c"]]), ["a", "b", "c"]]
  check_index             = [index(["a", "b", "c"], "b"), 1]
  check_keys              = [keys({ a = 1, c = 2, d = 3 }), ["a", "c", "d"]]
  check_keys_sorted       = [keys({ zeta = 1, alpha = 2 }), ["alpha", "zeta"]]
  check_length_empty      = [length([]), 0]
  check_length_list       = [length(["a", "b"]), 2]
  check_length_map        = [length({ "a" = "b" }), 1]
  check_length_string     = [length("hello"), 5]
  check_length_graphemes  = [length("👾🕹️"), 2]
  check_lookup            = [lookup({ a = "ay", b = "bee" }, "a", "what?"), "ay"]
  check_lookup_default    = [lookup({ a = "ay", b = "bee" }, "c", "what?"), "what?"]
  check_merge             = [merge({ a = "b", c = "d" }, { e = "f", c = "z" }), { a = "b", c = "z", e = "f" }]
  check_merge_types       = [merge({ a = "b" }, { a = [1, 2], c = "z" }, { d = 3 }), { a = [1, 2], c = "z", d = 3 }]
  check_range_one         = [range(3), [0, 1, 2]]
  check_range_two         = [range(1, 4), [1, 2, 3]]
  check_range_step        = [range(1, 8, 2), [1, 3, 5, 7]]
  check_range_fraction    = [range(1, 4, 0.5), [1, 1.5, 2, 2.5, 3, 3.5]]
  check_range_down        = [range(4, 1), [4, 3, 2]]
  check_range_down_step   = [range(10, 5, -2), [10, 8, 6]]
  check_reverse           = [reverse([1, 2, 3]), [3, 2, 1]]
  check_setintersection   = [setintersection(["a", "b"], ["b", "c"], ["b", "d"]), ["b"]]
  check_setproduct        = [setproduct(["development", "staging", "production"], ["app1", "app2"]), [["development", "app1"], ["development", "app2"], ["staging", "app1"], ["staging", "app2"], ["production", "app1"], ["production", "app2"]]]
  check_setproduct_empty  = [setproduct(["a"], []), []]
  check_setsubtract       = [setsubtract(["a", "b", "c"], ["a", "c"]), ["b"]]
  check_setunion          = [setunion(["a", "b"], ["b", "c"], ["d"]), ["a", "b", "c", "d"]]
  check_slice             = [slice(["a", "b", "c", "d"], 1, 3), ["b", "c"]]
  check_sort              = [sort(["e", "d", "a", "x"]), ["a", "d", "e", "x"]]
  check_sort_lexical      = [sort(["10", "9", "1"]), ["1", "10", "9"]]
  check_sum               = [sum([10, 13, 6, 4.5]), 33.5]
  check_transpose         = [transpose({ "a" = ["1", "2"], "b" = ["2", "3"] }), { "1" = ["a"], "2" = ["a", "b"], "3" = ["b"] }]
  check_values            = [values({ a = 3, c = 2, d = 1 }), [3, 2, 1]]
  check_zipmap            = [zipmap(["a", "b"], [1, 2]), { a = 1, b = 2 }]
}

# --- encoding ---------------------------------------------------------------
locals {
  check_base64decode       = [base64decode("SGVsbG8gV29ybGQ="), "Hello World"]
  check_base64encode       = [base64encode("Hello World"), "SGVsbG8gV29ybGQ="]
  check_base64encode_utf8  = [base64encode("☃"), "4piD"]
  check_base64gzip         = [base64gzip("test"), "H4sIAAAAAAAA/ypJLS4BAAAA//8BAAD//wx+f9gEAAAA"]
  check_base64gzip_longer  = [base64gzip("helloworld"), "H4sIAAAAAAAA/8pIzcnJL88vykkBAAAA//8BAAD//60g6/kKAAAA"]
  check_csvdecode          = [csvdecode("a,b,c\n1,2,3\n4,5,6"), [{ a = "1", b = "2", c = "3" }, { a = "4", b = "5", c = "6" }]]
  check_csvdecode_quoted   = [csvdecode("name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n"), [{ name = "Smith, J", note = "said \"hi\"" }]]
  check_jsondecode         = [jsondecode("{\"hello\": \"world\"}"), { hello = "world" }]
  check_jsondecode_scalar  = [jsondecode("true"), true]
  check_jsondecode_nested  = [jsondecode("{\"a\": [1, 2.5, null], \"b\": {\"c\": \"d\"}}"), { a = [1, 2.5, null], b = { c = "d" } }]
  check_jsonencode         = [jsonencode({ "hello" = "world" }), "{\"hello\":\"world\"}"]
  check_jsonencode_sorted  = [jsonencode({ b = 1, a = [true, null, "x"] }), "{\"a\":[true,null,\"x\"],\"b\":1}"]
  check_jsonencode_html    = [jsonencode("<b>&</b>"), "\"\\u003cb\\u003e\\u0026\\u003c/b\\u003e\""]
  check_jsonencode_number  = [jsonencode(1.5), "1.5"]
  check_textdecodebase64   = [textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE"), "Hello World"]
  check_textencodebase64   = [textencodebase64("Hello World", "UTF-16LE"), "SABlAGwAbABvACAAVwBvAHIAbABkAA=="]
  check_urlencode          = [urlencode("Hello World!"), "Hello+World%21"]
  check_urlencode_unicode  = [urlencode("☃"), "%E2%98%83"]
  check_urlencode_reserved = [urlencode("foo:bar@localhost?foo=bar&bar=baz"), "foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz"]
  check_yamldecode         = [yamldecode("hello: world"), { hello = "world" }]
  check_yamldecode_scalar  = [yamldecode("true"), true]
  check_yamldecode_anchor  = [yamldecode("{a: &foo [1, 2, 3], b: *foo}"), { a = [1, 2, 3], b = [1, 2, 3] }]
  check_yamlencode         = [yamlencode({ "a" = "b", "c" = "d" }), "\"a\": \"b\"\n\"c\": \"d\"\n"]
  check_yamlencode_list    = [yamlencode({ "foo" = [1, 2, 3], "bar" = "baz" }), "\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n"]
  check_yamlencode_nested  = [yamlencode({ "foo" = [1, { "a" = "b", "c" = "d" }, 3], "bar" = "baz" }), "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n"]
}

# --- filesystem -------------------------------------------------------------
locals {
  check_abspath          = [abspath("files/hello.txt"), "${path.cwd}/files/hello.txt"]
  check_abspath_absolute = [abspath("/etc/hosts"), "/etc/hosts"]
  check_basename         = [basename("foo/bar/baz.txt"), "baz.txt"]
  check_dirname          = [dirname("foo/bar/baz.txt"), "foo/bar"]
  check_pathexpand       = [pathexpand("~/.ssh/id_rsa"), "/home/tester/.ssh/id_rsa"]
  check_pathexpand_none  = [pathexpand("/etc/resolv.conf"), "/etc/resolv.conf"]
  check_file             = [file("files/hello.txt"), "Hello World\n"]
  check_file_root        = [file("${path.root}/files/hello.txt"), "Hello World\n"]
  check_fileexists       = [fileexists("files/hello.txt"), true]
  check_fileexists_not   = [fileexists("files/nope.txt"), false]
  check_fileset          = [fileset("files", "*.txt"), ["hello.txt"]]
  check_fileset_dir      = [fileset("files", "scripts/*.sh"), ["scripts/a.sh", "scripts/b.sh"]]
  check_fileset_deep     = [fileset("files", "**/*.sh"), ["scripts/a.sh", "scripts/b.sh", "scripts/nested/c.sh"]]
  check_fileset_choice   = [fileset("files", "{hello.txt,greeting.tpl}"), ["greeting.tpl", "hello.txt"]]
  check_templatefile     = [templatefile("files/greeting.tpl", { name = "world", items = ["a", "b"] }), "Hello, world!\n- a\n- b\n"]
}

# --- date and time ----------------------------------------------------------
locals {
  check_formatdate_rfc822  = [formatdate("DD MMM YYYY hh:mm ZZZ", local.instant), "02 Jan 2018 23:12 UTC"]
  check_formatdate_rfc850  = [formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", local.instant), "Tuesday, 02-Jan-18 23:12:01 UTC"]
  check_formatdate_offset  = [formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"), "Tue, 02 Jan 2018 23:12:01 -0800"]
  check_formatdate_zones   = [formatdate("Z|ZZZ|ZZZZ|ZZZZZ", "2018-01-02T23:12:01-08:00"), "-08:00|-0800|-0800|-08:00"]
  check_formatdate_utc     = [formatdate("Z|ZZZ|ZZZZ|ZZZZZ", local.instant), "Z|UTC|+0000|+00:00"]
  check_formatdate_short   = [formatdate("MMM DD, YYYY", local.instant), "Jan 02, 2018"]
  check_formatdate_12h     = [formatdate("HH:mmaa", local.instant), "11:12pm"]
  check_formatdate_literal = [formatdate("YYYY-MM-DD'T'hh:mm", local.instant), "2018-01-02T23:12"]
  check_formatdate_unpad   = [formatdate("D/M/YY h:m:s", "2018-01-02T03:04:05Z"), "2/1/18 3:4:5"]
  check_timeadd            = [timeadd("2017-11-22T00:00:00Z", "10m"), "2017-11-22T00:10:00Z"]
  check_timeadd_negative   = [timeadd("2017-11-22T00:00:00Z", "-1h30m"), "2017-11-21T22:30:00Z"]
  check_timestamp_format   = [can(regex("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$", timestamp())), true]
  check_timestamp_once     = [timestamp(), local.now]
  check_legacy_isotime     = [legacy_isotime(), local.now]
  check_legacy_isotime_fmt = [legacy_isotime("2006-01-02"), formatdate("YYYY-MM-DD", local.now)]
  check_legacy_strftime    = [legacy_strftime("%Y-%m-%d %H:%M:%S"), formatdate("YYYY-MM-DD hh:mm:ss", local.now)]
}

# --- hashing and uuids --------------------------------------------------------
locals {
  check_md5          = [md5("hello world"), "5eb63bbbe01eeed093cb22bb8f5acdc3"]
  check_sha1         = [sha1("hello world"), "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"]
  check_sha256       = [sha256("hello world"), "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"]
  check_sha512       = [sha512("hello world"), "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"]
  check_bcrypt       = [can(regex("^\\$2a\\$10\\$[./A-Za-z0-9]{53}$", bcrypt("hello world"))), true]
  check_bcrypt_cost  = [substr(bcrypt("hello world", 6), 0, 7), "$2a$06$"]
  check_uuidv4       = [can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", uuidv4())), true]
  check_uuidv4_fresh = [uuidv4() == uuidv4(), false]
  check_uuidv5_dns   = [uuidv5("dns", "www.terraform.io"), "a5008fae-b28c-5ba5-96cd-82b4c53552d6"]
  check_uuidv5_url   = [uuidv5("url", "https://www.terraform.io/"), "9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5"]
}

# --- networking -------------------------------------------------------------
locals {
  check_cidrhost          = [cidrhost("10.12.112.0/20", 16), "10.12.112.16"]
  check_cidrhost_wide     = [cidrhost("10.12.112.0/20", 268), "10.12.113.12"]
  check_cidrhost_ipv6     = [cidrhost("fd00:fd12:3456:7890:00a2::/72", 34), "fd00:fd12:3456:7890::22"]
  check_cidrhost_last     = [cidrhost("10.12.112.0/20", -1), "10.12.127.255"]
  check_cidrnetmask       = [cidrnetmask("172.16.0.0/12"), "255.240.0.0"]
  check_cidrsubnet        = [cidrsubnet("172.16.0.0/12", 4, 2), "172.18.0.0/16"]
  check_cidrsubnet_small  = [cidrsubnet("10.1.2.0/24", 4, 15), "10.1.2.240/28"]
  check_cidrsubnet_ipv6   = [cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162), "fd00:fd12:3456:7800:a200::/72"]
  check_cidrsubnets       = [cidrsubnets("10.1.0.0/16", 4, 4, 8, 4), ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]]
  check_cidrsubnets_ipv6  = [cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32), ["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72", "fd00:fd12:3456:7800:200::/72", "fd00:fd12:3456:7800:300::/88"]]
}

# --- type conversion and errors ---------------------------------------------
locals {
  settings = { region = "eu-west-1" }

  check_can_true        = [can(regex("^[a-z]+$", "abc")), true]
  check_can_false       = [can(regex("^[a-z]+$", "ABC")), false]
  check_can_reference   = [can(local.settings.zone), false]
  check_try_first       = [try(local.settings.region, "none"), "eu-west-1"]
  check_try_fallback    = [try(local.settings.zone, "eu-west-1a"), "eu-west-1a"]
  check_try_function    = [try(tonumber("x"), 7), 7]
  check_convert_number  = [convert("5", number), 5]
  check_convert_list    = [convert([1, "a"], list(string)), ["1", "a"]]
  check_convert_map     = [convert({ a = 1 }, map(string)), { a = "1" }]
  check_convert_set     = [convert(["b", "a", "b"], set(string)), ["a", "b"]]
  check_convert_object  = [convert({ name = "web" }, object({ name = string, size = optional(number, 10) })), { name = "web", size = 10 }]
  check_tobool          = [tobool("true"), true]
  check_tobool_null     = [tobool(null), null]
  check_tolist          = [tolist(["a", "b"]), ["a", "b"]]
  check_tolist_unify    = [tolist([1, "a"]), ["1", "a"]]
  check_tomap           = [tomap({ "a" = 1, "b" = 2 }), { a = 1, b = 2 }]
  check_tomap_unify     = [tomap({ "a" = 1, "b" = "x" }), { a = "1", b = "x" }]
  check_tonumber        = [tonumber("1"), 1]
  check_tonumber_float  = [tonumber("-1.5"), -1.5]
  check_toset           = [toset(["c", "b", "b"]), ["b", "c"]]
  check_tostring_number = [tostring(1), "1"]
  check_tostring_bool   = [tostring(true), "true"]
}

# --- env() in variable defaults ---------------------------------------------
locals {
  check_env_default = [var.greeting, "hello"]
  check_env_unset   = [var.unset_env, ""]
}

source "null" "first" {
  communicator = "none"
}

source "null" "second" {
  communicator = "none"
}

build {
  sources = ["source.null.first", "source.null.second"]

  # Evaluated again for each build at run time: timestamp() must not move.
  provisioner "shell-local" {
    inline = [
      "echo stamp=${timestamp()}",
      "echo gzip=$(echo ${base64gzip("hello gzip")} | base64 -d | gunzip)",
    ]
  }

  provisioner "shell-local" {
    inline = ["echo later=${timestamp()}"]
  }
}
