//! The checksum and compress post-processors through the real binary.
//!
//! The null builder's artifact has no files: one chain makes one by
//! compressing into an (empty) `.tar`; another takes files a shell-local
//! provisioner wrote through `artifice`. The outputs are checked with the
//! real tools, as the crates' own tests (`post-processors/*/src/tests.rs`)
//! check every format.

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

#[test]
fn real_files_through_artifice_compress_and_checksum() {
    let dir = TestDir::new("pp-artifice");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = [
      "mkdir -p img",
      "head -c 3000000 /dev/urandom > img/disk.raw",
      "yes 'some text in a disk image' | head -c 5000000 >> img/disk.raw",
      "echo '{}' > img/meta.json",
    ]
  }
  post-processors {
    post-processor "artifice" {
      files = ["img/disk.raw", "img/meta.json"]
    }
    post-processor "compress" {
      output              = "out/{{ .BuildName }}.tar.gz"
      keep_input_artifact = true
    }
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "out/SHA256SUMS"
    }
  }
  post-processors {
    post-processor "artifice" {
      files = ["img/disk.raw"]
    }
    post-processor "compress" {
      output              = "out/disk.raw.zst"
      keep_input_artifact = true
    }
  }
}
"#,
    );
    dir.bake(&["build", "-color=false", "t.pkr.hcl"]).success();
    assert_eq!(tool(&dir, "tar", &["-tzf", "out/a.tar.gz"]), "disk.raw\nmeta.json\n");
    tool(&dir, "sh", &["-c", "tar -xzOf out/a.tar.gz disk.raw | cmp - img/disk.raw"]);
    tool(&dir, "sh", &["-c", "zstd -dc out/disk.raw.zst | cmp - img/disk.raw"]);
    let sums = dir.read("out/SHA256SUMS");
    assert!(sums.ends_with("\ta.tar.gz\n"), "{sums:?}");
    dir.write("out/coreutils.sha256", &sums.replace('\t', "  "));
    tool(&dir, "sh", &["-c", "cd out && sha256sum -c coreutils.sha256"]);
}

#[test]
fn ctrl_c_during_a_long_compression_leaves_no_output_and_no_temp_file() {
    use std::time::Duration;
    let dir = TestDir::new("pp-sigint");
    // 256 MiB of random bytes at xz level 9 takes minutes on any machine:
    // the signal lands while the encoder threads are busy.
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["head -c 268435456 /dev/urandom > big.img"]
  }
  post-processors {
    post-processor "artifice" {
      files = ["big.img"]
    }
    post-processor "compress" {
      output            = "out/big.img.xz"
      compression_level = 9
    }
  }
}
"#,
    );
    util::interrupt_build(&dir, "Compressing big.img into out/big.img.xz", Duration::from_secs(2), || {
        // The temp file is there, growing, when the signal lands.
        let temp: Vec<_> = std::fs::read_dir(dir.path.join("out")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        assert!(matches!(&temp[..], [t] if t.starts_with(".big.img.xz.bake-tmp-")), "expected one temp file in out/, found {temp:?}");
    });
    // The input is the user's file, not an intermediate bake made.
    assert!(dir.exists("big.img"));
}

#[test]
fn shell_local_sees_the_artifact_in_its_environment_and_passes_it_on() {
    let dir = TestDir::new("pp-shell-local");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo one > one.txt", "echo two > two.txt"]
  }
  post-processors {
    post-processor "artifice" {
      files = ["one.txt", "two.txt"]
    }
    post-processor "shell-local" {
      inline = ["printf '%s|%s|%s|%s\n' \"$PACKER_ARTIFACT_ID\" \"$PACKER_ARTIFACT_FILES\" \"$PACKER_ARTIFACT_BUILDER_TYPE\" \"$PACKER_BUILD_NAME\" > seen.txt"]
    }
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "sums.txt"
    }
  }
}
"#,
    );
    dir.bake(&["build", "-color=false", "t.pkr.hcl"]).success();
    assert_eq!(dir.read("seen.txt"), "one.txt,two.txt|one.txt two.txt|packer.post-processor.artifice|a\n");
    // The checksum after it got the same two files.
    let sums = dir.read("sums.txt");
    assert!(sums.contains("\tone.txt\n") && sums.contains("\ttwo.txt\n"), "{sums:?}");
    // shell-local keeps its input: the files are still there.
    assert!(dir.exists("one.txt") && dir.exists("two.txt"));
}
