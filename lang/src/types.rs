//! Type constraints (`list(string)`, `object({ a = optional(number, 1) })` …)
//! and cty's conversion rules between values and types.

use crate::ast::Expr;
use crate::diag::Diagnostic;
use crate::value::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(BTreeMap<String, ObjectAttr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectAttr {
    pub ty: Type,
    pub optional: bool,
    /// The second argument of `optional(type, default)`.
    pub default: Option<Value>,
}

/// Reads a type expression such as `map(list(string))`.
pub fn parse(expr: &Expr) -> Result<Type, Diagnostic> {
    let _ = expr;
    Err(Diagnostic::error("Invalid type specification", "type constraints are not implemented yet").at(expr.span))
}

/// Converts a value to a type as cty does (`"5"` to 5, tuple to list, object
/// to map, optional attributes filled with their defaults or null). The error
/// says what is wrong and where inside the value, e.g.
/// `attribute "port": a number is required`.
pub fn convert(value: &Value, ty: &Type) -> Result<Value, String> {
    let _ = (value, ty);
    Err("type conversion is not implemented yet".to_string())
}
