//! Packer's HCL2 function library, with Packer/Terraform semantics.
//!
//! `can`, `try`, `convert` and `env` are not here: they need unevaluated
//! expressions or the evaluator's scope, so `eval` implements them.

use crate::value::{Value, MAX_VALUE_SIZE};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

mod collection;
mod encoding;
mod filesystem;
mod hashing;
mod network;
mod numeric;
mod string;
mod time;
mod typeconv;

// Go's text forms, for output that must read as Packer's (`bake console`).
pub use numeric::go_shortest;
pub use string::go_quote;

/// Renders a template file's text (at the path) with the given variables.
pub type RenderTemplate<'a> = dyn Fn(&Path, &str, &BTreeMap<String, Value>) -> Result<Value, String> + 'a;

/// What functions may know about the run they are called in.
pub struct FuncContext<'a> {
    /// Relative paths given to file functions are resolved against this
    /// directory (Packer uses the working directory).
    pub cwd: &'a Path,
    /// The one instant `timestamp()` returns for the whole run.
    pub now: SystemTime,
    /// Renders a template file's text with the given variables, for
    /// `templatefile`; the evaluator supplies it.
    pub render_template: &'a RenderTemplate<'a>,
}

/// A function call failed. `arg` is the zero-based index of the argument at
/// fault, so the error can point at it.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncError {
    pub arg: Option<usize>,
    pub message: String,
}

impl FuncError {
    pub fn new(message: impl Into<String>) -> FuncError {
        FuncError { arg: None, message: message.into() }
    }

    pub fn arg(index: usize, message: impl Into<String>) -> FuncError {
        FuncError { arg: Some(index), message: message.into() }
    }
}

pub type FuncResult = Result<Value, FuncError>;

/// Every function name this module answers, for "did you mean" and docs.
pub fn names() -> Vec<&'static str> {
    let mut all = Vec::new();
    for group in GROUPS {
        all.extend_from_slice(group.0);
    }
    all.sort_unstable();
    all
}

pub fn is_known(name: &str) -> bool {
    GROUPS.iter().any(|g| g.0.contains(&name))
}

/// Calls the function `name`. The caller has checked `is_known(name)`.
pub fn call(name: &str, args: &[Value], ctx: &FuncContext) -> FuncResult {
    for (names, f) in GROUPS {
        if names.contains(&name) {
            let result = f(name, args, ctx)?;
            check_size(result.approx_size())?;
            return Ok(result);
        }
    }
    Err(FuncError::new(format!("there is no function named \"{name}\"")))
}

type Group = (&'static [&'static str], fn(&str, &[Value], &FuncContext) -> FuncResult);

const GROUPS: &[Group] = &[
    (numeric::NAMES, numeric::call),
    (string::NAMES, string::call),
    (collection::NAMES, collection::call),
    (encoding::NAMES, encoding::call),
    (filesystem::NAMES, filesystem::call),
    (time::NAMES, time::call),
    (hashing::NAMES, hashing::call),
    (network::NAMES, network::call),
    (typeconv::NAMES, typeconv::call),
];

/// Checks the number of arguments.
pub(crate) fn arity(name: &str, args: &[Value], min: usize, max: Option<usize>) -> Result<(), FuncError> {
    let n = args.len();
    let ok = n >= min && max.is_none_or(|m| n <= m);
    if ok {
        return Ok(());
    }
    let expected = match max {
        Some(m) if m == min => format!("{min}"),
        Some(m) => format!("{min} to {m}"),
        None => format!("at least {min}"),
    };
    let plural = if min == 1 && max == Some(1) { "" } else { "s" };
    Err(FuncError::new(format!("function \"{name}\" expects {expected} argument{plural}, but got {n}")))
}

/// Refuses a result of `bytes` bytes when it passes [`MAX_VALUE_SIZE`].
/// Functions whose output can be much larger than their input (`join`,
/// `indent`, `replace`, `format`, `setproduct`, …) ask before they build it.
pub(crate) fn check_size(bytes: usize) -> Result<(), FuncError> {
    if bytes > MAX_VALUE_SIZE {
        return Err(FuncError::new(format!("the result would take more than {} MiB", MAX_VALUE_SIZE >> 20)));
    }
    Ok(())
}
