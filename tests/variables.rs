//! Input variables through the real binary: where values come from and
//! which wins, how text values are read, what is refused, validation, and
//! sensitive values kept out of every output.

mod util;
use serde_json::{json, Value as Json};
use util::{inspect_json, TestDir};

const TEMPLATE: &str = r#"
variable "v" {
  type    = string
  default = "default"
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
}
"#;

/// `var.NAME` as `inspect --json` reports it: (value, origin).
fn variable(run: &util::Run, name: &str) -> (Json, String) {
    let report = inspect_json(run);
    let v = &report["variables"][name];
    (v["value"].clone(), v["origin"].as_str().unwrap_or_default().to_string())
}

/// Every combination of the four places a value can come from besides the
/// default; the highest one present must win: default < environment <
/// *.auto.pkrvars.hcl < -var-file < -var.
#[test]
fn precedence_matrix() {
    let dir = TestDir::new("vars-precedence");
    dir.write("t/main.pkr.hcl", TEMPLATE);
    dir.write("file.pkrvars.hcl", "v = \"from-var-file\"\n");
    for mask in 0..16u8 {
        let (env, auto, file, flag) = (mask & 1 != 0, mask & 2 != 0, mask & 4 != 0, mask & 8 != 0);
        let auto_path = dir.path.join("t/vars.auto.pkrvars.hcl");
        if auto {
            dir.write("t/vars.auto.pkrvars.hcl", "v = \"from-auto-file\"\n");
        } else {
            let _ = std::fs::remove_file(&auto_path);
        }
        let mut args = vec!["inspect", "--json"];
        if file {
            args.push("-var-file=file.pkrvars.hcl");
        }
        if flag {
            args.extend(["-var", "v=from-flag"]);
        }
        args.push("t");
        let envs: &[(&str, &str)] = if env { &[("PKR_VAR_v", "from-env")] } else { &[] };
        let (value, origin) = variable(&dir.bake_env(&args, envs), "v");
        let (want, want_origin) = if flag {
            ("from-flag", "-var v")
        } else if file {
            ("from-var-file", "file.pkrvars.hcl")
        } else if auto {
            ("from-auto-file", "t/vars.auto.pkrvars.hcl")
        } else if env {
            ("from-env", "environment variable PKR_VAR_v")
        } else {
            ("default", "default")
        };
        assert_eq!((value, origin.as_str()), (json!(want), want_origin), "env={env} auto={auto} file={file} flag={flag}");
    }
}

#[test]
fn bake_var_wins_over_pkr_var() {
    let dir = TestDir::new("vars-env");
    dir.write("t.pkr.hcl", TEMPLATE);
    let run = dir.bake_env(&["inspect", "--json", "t.pkr.hcl"], &[("PKR_VAR_v", "packer"), ("BAKE_VAR_v", "bake")]);
    assert_eq!(variable(&run, "v"), (json!("bake"), "environment variable BAKE_VAR_v".to_string()));
    let run = dir.bake_env(&["inspect", "--json", "t.pkr.hcl"], &[("PKR_VAR_v", "packer")]);
    assert_eq!(variable(&run, "v").0, json!("packer"));
    // A variable the template does not declare is ignored in the environment.
    dir.bake_env(&["validate", "t.pkr.hcl"], &[("PKR_VAR_nope", "1")]).success().lacks("nope");
}

#[test]
fn auto_var_files_load_in_name_order_for_a_directory_only() {
    let dir = TestDir::new("vars-auto");
    dir.write("t/main.pkr.hcl", &TEMPLATE.replace("variable \"v\"", "variable \"w\" {\n  type = number\n  default = 0\n}\n\nvariable \"v\""));
    dir.write("t/a.auto.pkrvars.hcl", "v = \"a\"\nw = 1\n");
    dir.write("t/b.auto.pkrvars.json", "{ \"v\": \"b\" }\n");
    dir.write("t/c.pkrvars.hcl", "v = \"not automatic\"\n");
    let report = inspect_json(&dir.bake(&["inspect", "--json", "t"]));
    assert_eq!(report["variables"]["v"]["value"], json!("b"), "the later file wins");
    assert_eq!(report["variables"]["w"]["value"], json!(1), "earlier files still set what later ones do not");
    // Given one file of the directory, auto var files are not read (as in Packer).
    let report = inspect_json(&dir.bake(&["inspect", "--json", "t/main.pkr.hcl"]));
    assert_eq!(report["variables"]["v"]["value"], json!("default"));
}

#[test]
fn var_files_and_flags_apply_in_the_order_given() {
    let dir = TestDir::new("vars-order");
    dir.write("t.pkr.hcl", TEMPLATE);
    dir.write("one.pkrvars.hcl", "v = \"one\"\n");
    dir.write("two.pkrvars.json", "{\"v\": \"two\"}\n");
    let run = dir.bake(&["inspect", "--json", "-var-file=one.pkrvars.hcl", "-var-file=two.pkrvars.json", "t.pkr.hcl"]);
    assert_eq!(variable(&run, "v").0, json!("two"));
    let run = dir.bake(&["inspect", "--json", "-var-file=two.pkrvars.json", "-var-file=one.pkrvars.hcl", "t.pkr.hcl"]);
    assert_eq!(variable(&run, "v").0, json!("one"));
    // -var wins over every file, wherever it is on the command line, and the last -var wins.
    let run = dir.bake(&["inspect", "--json", "-var", "v=first", "-var-file=one.pkrvars.hcl", "-var", "v=last", "t.pkr.hcl"]);
    assert_eq!(variable(&run, "v").0, json!("last"));
    // A value may itself contain '='.
    let run = dir.bake(&["inspect", "--json", "-var", "v=a=b", "t.pkr.hcl"]);
    assert_eq!(variable(&run, "v").0, json!("a=b"));
}

#[test]
fn text_values_of_complex_types_are_read_as_hcl() {
    let dir = TestDir::new("vars-complex");
    dir.write(
        "t.pkr.hcl",
        r#"
variable "zones" { type = list(string) }
variable "tags"  { type = map(string) }
variable "vm" {
  type = object({ name = string, cpus = optional(number, 2) })
}
variable "size"    { type = number }
variable "enabled" { type = bool }
variable "label"   { type = string }
variable "anything" {}
"#,
    );
    let run = dir.bake_env(
        &[
            "inspect",
            "--json",
            "-var",
            r#"zones=["eu-west-1a", "eu-west-1b"]"#,
            "-var",
            r#"tags={ team = "images", cost = 12 }"#,
            "-var",
            r#"vm={ name = "web" }"#,
            "-var",
            "size=20",
            "-var",
            "enabled=true",
            "-var",
            r#"label=["not", "a", "list"]"#,
            "t.pkr.hcl",
        ],
        &[("PKR_VAR_anything", "{ a = 1 }")],
    );
    let report = inspect_json(&run);
    let value = |n: &str| report["variables"][n]["value"].clone();
    assert_eq!(value("zones"), json!(["eu-west-1a", "eu-west-1b"]));
    assert_eq!(value("tags"), json!({ "cost": "12", "team": "images" }));
    assert_eq!(value("vm"), json!({ "name": "web", "cpus": 2 }));
    assert_eq!(value("size"), json!(20));
    assert_eq!(value("enabled"), json!(true));
    // Strings and untyped variables take the text as it is.
    assert_eq!(value("label"), json!("[\"not\", \"a\", \"list\"]"));
    assert_eq!(value("anything"), json!("{ a = 1 }"));
    assert_eq!(report["variables"]["zones"]["type"], json!("list(string)"));

    // Text that is not a value of the type is refused, naming value and type.
    let run = dir.bake(&[
        "validate",
        "-var",
        "zones=[1, [2]]",
        "-var",
        "tags={}",
        "-var",
        "vm={name=\"x\"}",
        "-var",
        "size=big",
        "-var",
        "enabled=true",
        "-var",
        "label=x",
        "-var",
        "anything=1",
        "t.pkr.hcl",
    ]);
    run.failure()
        .contains("The value \"big\" for \"size\" (from -var size) does not fit its type number: a number is required.")
        .contains("(from -var zones) does not fit its type list(string)");
    let run = dir.bake(&[
        "validate",
        "-var",
        "zones=[var.other]",
        "-var",
        "tags={}",
        "-var",
        "vm={name=\"x\"}",
        "-var",
        "size=1",
        "-var",
        "enabled=true",
        "-var",
        "label=x",
        "-var",
        "anything=1",
        "t.pkr.hcl",
    ]);
    run.failure().contains("Variables not allowed").contains("<value for var.zones from -var zones>:1:2");
}

#[test]
fn undeclared_variables() {
    let dir = TestDir::new("vars-undeclared");
    dir.write("t.pkr.hcl", TEMPLATE);
    // -var naming no variable is an error, with the closest name suggested.
    dir.bake(&["validate", "-var", "w=1", "t.pkr.hcl"])
        .failure()
        .contains("Error: Undeclared variable")
        .contains("-var sets \"w\", but the template declares no such variable.")
        .contains("did you mean \"v\"?");
    // In a var file it is only a warning, pointing at it; the rest applies.
    dir.write("vars.pkrvars.hcl", "v = \"set\"\nvv = 1\n");
    let run = dir.bake(&["inspect", "--json", "-var-file=vars.pkrvars.hcl", "t.pkr.hcl"]);
    run.contains("Warning: Undeclared variable").contains("vars.pkrvars.hcl:2:1").contains("did you mean \"v\"?");
    assert_eq!(variable(&run, "v").0, json!("set"));
    // A variable block in a var file is an error.
    dir.write("bad.pkrvars.hcl", "v = \"set\"\n\nvariable \"w\" {\n  default = 1\n}\n");
    dir.bake(&["validate", "-var-file=bad.pkrvars.hcl", "t.pkr.hcl"])
        .failure()
        .contains("Error: Variable declaration in a var file")
        .contains("bad.pkrvars.hcl:3:1");
    // A var file that does not exist.
    dir.bake(&["validate", "-var-file=missing.pkrvars.hcl", "t.pkr.hcl"]).failure().contains("Cannot read var file").contains("missing.pkrvars.hcl");
    // A -var without '='.
    dir.bake(&["validate", "-var", "v", "t.pkr.hcl"]).failure().contains("\"v\" is not of the form NAME=VALUE");
}

#[test]
fn unset_variables_must_be_given_a_value() {
    let dir = TestDir::new("vars-unset");
    dir.write("t.pkr.hcl", &TEMPLATE.replace("  default = \"default\"\n", ""));
    dir.bake(&["validate", "t.pkr.hcl"]).failure().contains("Error: Unset variable").contains("t.pkr.hcl:2:10").contains("PKR_VAR_v");
    dir.bake_env(&["validate", "t.pkr.hcl"], &[("PKR_VAR_v", "x")]).success();
    dir.bake(&["validate", "-var", "v=x", "t.pkr.hcl"]).success();
}

#[test]
fn validation_rules_check_every_value_whatever_its_source() {
    let dir = TestDir::new("vars-validation");
    dir.write(
        "t.pkr.hcl",
        r#"
variable "region" {
  type    = string
  default = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+-[0-9]$", var.region))
    error_message = "The region must look like eu-west-1."
  }

  validation {
    condition     = !startswith(var.region, "cn-")
    error_message = "China regions need their own account: ${var.region} is not allowed."
  }
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
}
"#,
    );
    dir.bake(&["validate", "t.pkr.hcl"]).success();
    dir.bake(&["validate", "-var", "region=us-east-2", "t.pkr.hcl"]).success();
    let run = dir.bake(&["validate", "-var", "region=mars", "t.pkr.hcl"]);
    run.failure().contains("The region must look like eu-west-1.").contains("t.pkr.hcl:7:21").lacks("China");
    let run = dir.bake_env(&["validate", "t.pkr.hcl"], &[("PKR_VAR_region", "cn-north-1")]);
    run.failure().contains("China regions need their own account: cn-north-1 is not allowed.").contains("t.pkr.hcl:12:21").lacks("must look like");
    dir.write("v.pkrvars.hcl", "region = \"cn-x-1\"\n");
    dir.bake(&["validate", "-var-file=v.pkrvars.hcl", "t.pkr.hcl"]).failure().contains("cn-x-1 is not allowed");
}

#[test]
fn a_condition_that_cannot_be_evaluated_is_reported_once() {
    let dir = TestDir::new("vars-validation-error");
    dir.write(
        "t.pkr.hcl",
        r#"
variable "disk" {
  type    = string
  default = "20G"

  validation {
    condition     = tonumber(var.disk) > 10
    error_message = "The disk must be larger than 10 GB."
  }
}
"#,
    );
    let run = dir.bake(&["validate", "t.pkr.hcl"]);
    run.failure().contains("cannot convert \"20G\" to number").lacks("The disk must be larger than 10 GB.");
    assert_eq!(run.stderr.matches("Error: ").count(), 1, "{}", run.stderr);
}

const SECRET: &str = "hunter2-correct-horse";

const SENSITIVE: &str = r#"
variable "token" {
  type      = string
  sensitive = true
}

variable "port" {
  type      = number
  default   = 22
  sensitive = true
}

local "auth_header" {
  expression = "Bearer ${var.token}"
  sensitive  = true
}

locals {
  token_length = length(var.token)
  url          = "https://ci:${var.token}@example.com/repo.git"
  public       = "nothing to hide"
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  provisioner "shell-local" {
    environment_vars = ["TOKEN=${var.token}"]
    inline = [
      "echo token=$TOKEN",
      "echo url=${local.url}",
      "echo public=${local.public}",
      "echo ${var.token} >&2",
    ]
  }

  post-processor "manifest" {
    output      = "manifest.json"
    custom_data = { token = var.token, header = local.auth_header, note = local.public }
  }
}
"#;

#[test]
fn sensitive_values_are_masked_in_inspect() {
    let dir = TestDir::new("vars-sensitive-inspect");
    dir.write("t.pkr.hcl", SENSITIVE);
    let run = dir.bake(&["inspect", "-var", &format!("token={SECRET}"), "t.pkr.hcl"]);
    run.success()
        .lacks(SECRET)
        .contains("var.token: <sensitive>")
        .contains("var.port: <sensitive>")
        .contains("local.auth_header: <sensitive>")
        // Derived from a sensitive value, so sensitive too.
        .contains("local.url: <sensitive>")
        .contains("local.token_length: <sensitive>")
        .contains("local.public: \"nothing to hide\"");
    let report = inspect_json(&dir.bake(&["inspect", "--json", "-var", &format!("token={SECRET}"), "t.pkr.hcl"]));
    assert!(!report.to_string().contains(SECRET), "{report}");
    assert_eq!(
        report["variables"]["token"],
        json!({ "value": "<sensitive>", "type": "string", "sensitive": true, "unknown": false, "description": null, "origin": "-var token" })
    );
    assert_eq!(report["locals"]["url"]["sensitive"], json!(true));
    assert_eq!(report["locals"]["public"], json!({ "value": "nothing to hide", "sensitive": false, "unknown": false }));
}

#[test]
fn sensitive_values_are_masked_in_build_output_and_the_manifest() {
    let dir = TestDir::new("vars-sensitive-build");
    dir.write("t.pkr.hcl", SENSITIVE);
    let run = dir.bake_env(&["build", "-color=false", "t.pkr.hcl"], &[("PKR_VAR_token", SECRET)]);
    run.success().lacks(SECRET).contains("token=<sensitive>").contains("url=https://ci:<sensitive>@example.com/repo.git").contains("public=nothing to hide");
    let manifest = dir.read("manifest.json");
    assert!(!manifest.contains(SECRET), "{manifest}");
    let manifest: Json = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["builds"][0]["custom_data"], json!({ "token": "<sensitive>", "header": "<sensitive>", "note": "nothing to hide" }));

    let run = dir.bake_env(&["build", "-machine-readable", "t.pkr.hcl"], &[("PKR_VAR_token", SECRET)]);
    run.success().lacks(SECRET).contains("token=<sensitive>");
}

#[test]
fn sensitive_values_are_masked_in_errors() {
    let dir = TestDir::new("vars-sensitive-errors");
    // An error while loading, after the sensitive value is known.
    dir.write("t.pkr.hcl", &SENSITIVE.replace("public       = \"nothing to hide\"", "public       = tonumber(var.token)"));
    let run = dir.bake(&["validate", "-var", &format!("token={SECRET}"), "t.pkr.hcl"]);
    run.failure().lacks(SECRET).contains("cannot convert \"<sensitive>\" to number");

    // A value rejected by its type: the value is never shown, nor the line
    // of the var file that holds it.
    dir.write("t.pkr.hcl", SENSITIVE);
    dir.write("secret.pkrvars.hcl", "token = \"x\"\nport  = \"ssh-on-hunter2-correct-horse\"\n");
    let run = dir.bake(&["validate", "-var-file=secret.pkrvars.hcl", "t.pkr.hcl"]);
    run.failure().lacks("hunter2").contains("The value <sensitive> for \"port\"").contains("secret.pkrvars.hcl:2:9");

    // A validation message that quotes the value.
    dir.write(
        "v.pkr.hcl",
        r#"
variable "password" {
  type      = string
  sensitive = true
  validation {
    condition     = length(var.password) >= 32
    error_message = "The password ${var.password} is too short."
  }
}
"#,
    );
    let run = dir.bake_env(&["validate", "v.pkr.hcl"], &[("BAKE_VAR_password", SECRET)]);
    run.failure().lacks(SECRET).contains("The password <sensitive> is too short.");

    // An error at plan time, in a provisioner's configuration.
    dir.write("p.pkr.hcl", &SENSITIVE.replace("environment_vars = [\"TOKEN=${var.token}\"]", "environment_vars = [\"${var.token}\"]"));
    let run = dir.bake(&["validate", "-var", &format!("token={SECRET}"), "p.pkr.hcl"]);
    run.failure().lacks(SECRET).contains("\"<sensitive>\" is not of the form NAME=VALUE");
}

#[test]
fn the_legacy_variables_block_declares_variables_with_defaults() {
    let dir = TestDir::new("vars-legacy");
    dir.write("t.pkr.hcl", "variables {\n  region = \"eu-west-1\"\n  size   = 10\n}\n\nlocals {\n  where = \"${var.region}/${var.size}\"\n}\n");
    let report = inspect_json(&dir.bake(&["inspect", "--json", "-var", "size=20", "t.pkr.hcl"]));
    assert_eq!(report["locals"]["where"]["value"], json!("eu-west-1/20"));
}
