use super::{FuncContext, FuncError, FuncResult};
use crate::value::Value;

pub const NAMES: &[&str] = &[];

pub fn call(name: &str, _args: &[Value], _ctx: &FuncContext) -> FuncResult {
    Err(FuncError::new(format!("function \"{name}\" is not implemented yet")))
}
