//! Packer-compatible HCL2 for bake: the syntax tree, the evaluator with its
//! function library and type constraints, formatting, and diagnostics that
//! point at `file:line:col`.

pub mod ast;
pub mod diag;
pub mod eval;
pub mod fmt;
pub mod functions;
pub mod json;
pub mod number;
pub mod parse;
pub mod source;
pub mod types;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use number::Number;
pub use source::{FileId, SourceMap, Span};
pub use value::Value;
