//! `bake validate`: load, plan and prepare every plugin; touch nothing.

use super::{load_options, load_or_report, print_diagnostics, DataMode};
use crate::cli::ValidateArgs;
use crate::plan::{self, Selection};
use crate::ui::Masker;

pub fn run(args: ValidateArgs) -> i32 {
    let opts = load_options(&args.template, &args.vars, args.syntax_only);
    let Some(loaded) = load_or_report(&opts, DataMode::Placeholder) else { return 1 };
    if args.syntax_only {
        report_ok(args.machine_readable);
        return 0;
    }
    let selection = Selection { only: args.filter.only.clone(), except: args.filter.except.clone() };
    match plan::plan(&loaded, &selection) {
        Ok(planned) => {
            print_diagnostics(&planned.warnings, &loaded.sources, &Masker::new(loaded.secrets.clone()));
            report_ok(args.machine_readable);
            0
        }
        Err(diags) => {
            print_diagnostics(&diags, &loaded.sources, &Masker::new(loaded.secrets.clone()));
            1
        }
    }
}

fn report_ok(machine_readable: bool) {
    if machine_readable {
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        outln!("{ts},,ui,say,The configuration is valid.");
    } else {
        outln!("The configuration is valid.");
    }
}
