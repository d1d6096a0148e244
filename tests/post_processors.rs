//! The checksum and compress post-processors through the real binary.
//!
//! The null builder's artifact has no files, so a chain first makes one:
//! `compress` into an (empty) `.tar`, which the next post-processors
//! compress again and checksum. The outputs are checked with the real tools.
//! What the post-processors make of real files is tested in their crates
//! (`post-processors/*/src/tests.rs`), also against the real tools.

mod util;
use std::process::Command;
use util::TestDir;

const CHAIN: &str = r#"
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]

  post-processors {
    post-processor "compress" {
      output = "out/{{ .BuildName }}-{{ .BuilderType }}.tar"
    }
    post-processor "compress" {
      output            = "out/image.gz"
      compression_level = 9
    }
    post-processor "checksum" {
      checksum_types = ["sha256", "md5"]
      output         = "out/{{ .BuildName }}.{{ .ChecksumType }}"
    }
  }

  post-processor "compress" {
    output = "out/empty.zip"
  }
}
"#;

fn tool(dir: &TestDir, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).current_dir(&dir.path).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_compress_then_checksum_chain_writes_what_the_tools_read() {
    let dir = TestDir::new("pp-chain");
    dir.write("t.pkr.hcl", CHAIN);
    dir.bake(&["validate", "t.pkr.hcl"]).success();
    dir.bake(&["build", "-color=false", "t.pkr.hcl"]).success().contains("Running post-processor checksum");
    // The tar was an intermediate artifact: the next step did not keep it.
    assert!(!dir.exists("out/a-null.tar"));
    tool(&dir, "gzip", &["-t", "out/image.gz"]);
    // A tar of no files is its end marker: two zero blocks (as Go writes it).
    assert_eq!(tool(&dir, "sh", &["-c", "gunzip -c out/image.gz | tar -tf - | wc -l"]).trim(), "0");
    assert_eq!(tool(&dir, "sh", &["-c", "gunzip -c out/image.gz | wc -c"]).trim(), "1024");
    // Packer's line format, which coreutils reads once the tab is spaces.
    let sha = dir.read("out/a.sha256");
    assert!(sha.ends_with("\timage.gz\n") && sha.lines().count() == 1, "{sha:?}");
    dir.write("out/a.sha256.coreutils", &sha.replace('\t', "  "));
    dir.write("out/a.md5.coreutils", &dir.read("out/a.md5").replace('\t', "  "));
    tool(&dir, "sh", &["-c", "cd out && sha256sum -c a.sha256.coreutils && md5sum -c a.md5.coreutils"]);
    // (unzip exits 1 on an empty zip; Python reads it as one.)
    tool(&dir, "python3", &["-m", "zipfile", "-t", "out/empty.zip"]);
    // A second run appends to the checksum files.
    dir.bake(&["build", "-color=false", "t.pkr.hcl"]).success();
    assert_eq!(dir.read("out/a.sha256").lines().count(), 2);
}

#[test]
fn a_single_file_format_needs_one_file() {
    let dir = TestDir::new("pp-one-file");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  post-processor "compress" {
    format = "zst"
  }
}
"#,
    );
    dir.bake(&["build", "-color=false", "t.pkr.hcl"]).failure().contains("can only have 1 input file when not using tar/zip; found 0");
}

#[test]
fn mistakes_are_caught_at_validate_time() {
    let dir = TestDir::new("pp-invalid");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  post-processor "checksum" {
    checksum_types = ["crc32"]
    output         = "{{ .BuildNam }}.sum"
  }
  post-processor "compress" {
    output            = "image.qcow2"
    compression_level = 99
  }
}
"#,
    );
    dir.bake(&["validate", "t.pkr.hcl"])
        .failure()
        .contains("t.pkr.hcl:9:22")
        .contains("\"crc32\" is not a checksum type")
        .contains("md5, sha1, sha224, sha256, sha384, sha512")
        .contains("t.pkr.hcl:10:22")
        .contains("{{ .BuildName }}")
        .contains("t.pkr.hcl:13:25")
        .contains("cannot tell the format of \"image.qcow2\"")
        .contains("t.pkr.hcl:14:25")
        .contains("99 is not a compression level");
}
