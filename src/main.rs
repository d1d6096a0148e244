//! `bake`: an immutable-image baker that reads Packer HCL2 templates.

mod cli;
mod commands;
mod load;
mod plan;
mod plugins;
mod postprocess;
mod run;
mod ui;

fn main() {
    let code = cli::main();
    std::process::exit(code);
}
