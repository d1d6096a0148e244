//! Command-line interface. Packer spells long flags with one dash
//! (`-var`, `-only=…`); both spellings work here.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "bake", version, about = "Bake immutable machine images from Packer HCL2 templates", propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build images from a template file or directory.
    Build(BuildArgs),
    /// Check that a template is valid, without building anything.
    Validate(ValidateArgs),
    /// Show a template's variables, sources and builds.
    Inspect(InspectArgs),
    /// Evaluate expressions against a template's variables and locals (from stdin, or interactively).
    Console(ConsoleArgs),
    /// Rewrite templates in the canonical format.
    Fmt(FmtArgs),
    /// Write a starter template.
    Init(InitArgs),
    /// Remove what crashed or killed runs left behind (VMs, temp files, cloud resources).
    Cleanup(CleanupArgs),
    /// Show the artifacts a manifest records: the latest of each build, an image id per region, the history.
    Artifacts(ArtifactsArgs),
    /// Print bake's version and the Packer version whose language it speaks.
    Version,
    /// Print a shell completion script.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct VarArgs {
    /// Set a variable: -var 'name=value' (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a .pkrvars.hcl or .pkrvars.json file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Build only these builds (globs over BUILD.TYPE.NAME, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    pub only: Vec<String>,
    /// Build all but these builds (globs, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    pub except: Vec<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq)]
pub enum OnErrorArg {
    #[default]
    Cleanup,
    Abort,
    Ask,
    RunCleanupProvisioner,
}

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// A template file or a directory of *.pkr.hcl files.
    pub template: PathBuf,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How many builds run at once; 0 means no limit.
    #[arg(long = "parallel-builds", default_value_t = 0)]
    pub parallel_builds: usize,
    /// What to do when a build fails.
    #[arg(long = "on-error", value_enum, default_value_t = OnErrorArg::Cleanup)]
    pub on_error: OnErrorArg,
    /// Replace existing output directories and artifacts.
    #[arg(long)]
    pub force: bool,
    /// Pause between steps, waiting for Enter.
    #[arg(long)]
    pub debug: bool,
    /// Prefix every output line with a timestamp.
    #[arg(long = "timestamp-ui")]
    pub timestamp_ui: bool,
    /// Print Packer's machine-readable records (timestamp,target,type,data).
    #[arg(long = "machine-readable")]
    pub machine_readable: bool,
    /// Colour the output (-color=false to turn it off).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub color: bool,
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    pub template: PathBuf,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only check the syntax and structure; evaluate nothing.
    #[arg(long = "syntax-only")]
    pub syntax_only: bool,
    #[arg(long = "machine-readable")]
    pub machine_readable: bool,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub color: bool,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    pub template: PathBuf,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[arg(long = "machine-readable")]
    pub machine_readable: bool,
}

#[derive(clap::Args, Debug)]
pub struct ConsoleArgs {
    /// A template file or directory whose variables and locals expressions can use (none: functions only).
    pub template: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Packer's choice of language without a template; bake reads only HCL2.
    #[arg(long = "config-type", value_enum, default_value_t = ConfigType::Hcl2)]
    pub config_type: ConfigType,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq)]
pub enum ConfigType {
    Hcl2,
}

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Exit 3 when a file is not formatted; change nothing.
    #[arg(long)]
    pub check: bool,
    /// Show the changes as a diff.
    #[arg(long)]
    pub diff: bool,
    /// Write the result back to the files (-write=false prints it).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub write: bool,
    /// Also format files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
}

#[derive(clap::Args, Debug)]
pub struct CleanupArgs {
    /// Only list what would be removed.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Also remove what bake left in AWS from any machine's runs, found by its tags (instances, AMIs, snapshots, key pairs, security groups).
    #[arg(long)]
    pub aws: bool,
    /// The AWS regions to sweep, comma-separated (default: AWS_REGION).
    #[arg(long, value_delimiter = ',', value_name = "REGIONS", requires = "aws")]
    pub regions: Vec<String>,
    /// Sweep only what was made longer ago than this (a duration such as 2h or 30m), so that running builds are left alone.
    #[arg(long = "older-than", default_value = "2h", value_name = "DURATION")]
    pub older_than: String,
}

#[derive(clap::Args, Debug)]
pub struct ArtifactsArgs {
    /// Which builds (a glob over BUILD.TYPE.NAME or the source name; default: all).
    pub build: Option<String>,
    /// The manifest to read.
    #[arg(long, default_value = "packer-manifest.json", value_name = "PATH")]
    pub manifest: PathBuf,
    /// Print only the image id in this region (one per line, with the build's name, when several builds match).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Every run's artifacts, oldest first, instead of the latest of each build.
    #[arg(long)]
    pub history: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The directory to write the template into (default: the current one).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Which starter template: run `bake init --list` to see them.
    #[arg(long, default_value = "null")]
    pub template: String,
    /// List the starter templates.
    #[arg(long)]
    pub list: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Rewrites Packer's single-dash long flags (`-var`, `-only=x`) to clap's
/// double-dash form. Short flags do not exist in bake, so any `-word` is a
/// long flag; a lone `-` and everything after `--` are left alone.
pub fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest_literal = false;
    for a in args {
        if rest_literal {
            out.push(a);
            continue;
        }
        if a == "--" {
            rest_literal = true;
            out.push(a);
        } else if a.len() > 2 && a.starts_with('-') && !a.starts_with("--") && a.as_bytes()[1].is_ascii_alphabetic() {
            out.push(format!("-{a}"));
        } else {
            out.push(a);
        }
    }
    out
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse_from(normalize_args(std::env::args())) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    crate::commands::dispatch(cli.command)
}

#[cfg(test)]
mod tests {
    use super::normalize_args;

    #[test]
    fn single_dash_long_flags_become_double() {
        let args = ["bake", "build", "-var", "a=1", "-only=x.*", "--force", "-", "-h", "--", "-var"].map(String::from);
        assert_eq!(normalize_args(args), ["bake", "build", "--var", "a=1", "--only=x.*", "--force", "-", "-h", "--", "-var"]);
    }
}
