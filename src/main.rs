//! `bake`: an immutable-image baker that reads Packer HCL2 templates.

fn main() {
    let code = bake::main();
    std::process::exit(code);
}
