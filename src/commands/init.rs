//! `bake init`: writes a starter template. Plugins are built in, so unlike
//! `packer init` there is nothing to download.

use crate::cli::InitArgs;

/// The starter templates, from `templates/`.
const TEMPLATES: &[(&str, &str, &str)] = &[
    ("null", "a build without a machine: shell-local provisioning and a manifest", include_str!("../../templates/null.pkr.hcl")),
    ("file", "an artifact from one file (the file builder, a null data source) and its checksum", include_str!("../../templates/file.pkr.hcl")),
    ("amazon-ebs", "an AMI from the newest Debian AMI, made on a temporary EC2 instance", include_str!("../../templates/amazon-ebs.pkr.hcl")),
];

pub fn run(args: InitArgs) -> i32 {
    if args.list {
        for (name, about, _) in TEMPLATES {
            outln!("{name:10} {about}");
        }
        return 0;
    }
    let Some((name, _, text)) = TEMPLATES.iter().find(|(n, _, _)| *n == args.template) else {
        let names: Vec<&str> = TEMPLATES.iter().map(|(n, _, _)| *n).collect();
        eprintln!("Error: there is no starter template named \"{}\"; choose one of: {}", args.template, names.join(", "));
        return 1;
    };
    if let Err(e) = std::fs::create_dir_all(&args.dir) {
        eprintln!("Error: cannot create {}: {e}", args.dir.display());
        return 1;
    }
    let path = args.dir.join(format!("{name}.pkr.hcl"));
    if path.exists() && !args.force {
        eprintln!("Error: {} already exists; use -force to overwrite it.", path.display());
        return 1;
    }
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("Error: cannot write {}: {e}", path.display());
        return 1;
    }
    outln!("Wrote {}. Try: bake build {}", path.display(), path.display());
    0
}
