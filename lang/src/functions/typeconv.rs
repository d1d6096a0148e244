//! Explicit type conversions: `tobool`, `tolist`, `tomap`, `tonumber`,
//! `toset` and `tostring`.

use super::{arity, FuncContext, FuncError, FuncResult};
use crate::types::{self, Type};
use crate::value::Value;

pub const NAMES: &[&str] = &["tobool", "tolist", "tomap", "tonumber", "toset", "tostring"];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    arity(name, args, 1, Some(1))?;
    let target = match name {
        "tobool" => Type::Bool,
        "tolist" => Type::List(Box::new(Type::Any)),
        "tomap" => Type::Map(Box::new(Type::Any)),
        "tonumber" => Type::Number,
        "toset" => Type::Set(Box::new(Type::Any)),
        "tostring" => Type::String,
        _ => return Err(FuncError::new(format!("there is no function named \"{name}\""))),
    };
    convert_explicitly(&args[0], &target)
}

/// Converts as `types::convert` does, with the messages Terraform gives for
/// a conversion the user asked for rather than one implied by a type
/// constraint: `cannot convert tuple to string`.
fn convert_explicitly(value: &Value, target: &Type) -> FuncResult {
    let from = Type::of(value);
    if !types::convertible(&from, target) {
        let message = format!("cannot convert {} to {}", from.friendly_name(), target.friendly_name());
        return Err(FuncError::arg(0, message));
    }
    types::convert(value, target).map_err(|e| {
        let message = match (value, target) {
            (Value::String(s), Type::Bool) => {
                format!("cannot convert {s:?} to bool; only the strings \"true\" or \"false\" are allowed")
            }
            (Value::String(s), Type::Number) if e == "a number is required" => {
                format!("cannot convert {s:?} to number; given string must be a decimal representation of a number")
            }
            _ => e,
        };
        FuncError::arg(0, message)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{call as dispatch, FuncContext};
    use super::*;
    use serde_json::json;

    fn run(name: &str, arg: serde_json::Value) -> FuncResult {
        let cwd = std::env::temp_dir();
        let ctx = FuncContext { cwd: &cwd, now: std::time::UNIX_EPOCH, render_template: &|_, t, _| Ok(Value::String(t.to_string())) };
        dispatch(name, &[Value::from_json(&arg)], &ctx)
    }

    fn ok(name: &str, arg: serde_json::Value) -> serde_json::Value {
        run(name, arg).unwrap_or_else(|e| panic!("{name}: {}", e.message)).to_json()
    }

    fn err(name: &str, arg: serde_json::Value) -> String {
        let e = run(name, arg).expect_err("expected an error");
        assert_eq!(e.arg, Some(0));
        e.message
    }

    #[test]
    fn tobool() {
        assert_eq!(ok("tobool", json!(true)), json!(true));
        assert_eq!(ok("tobool", json!("false")), json!(false));
        assert_eq!(ok("tobool", json!(null)), json!(null));
        assert_eq!(err("tobool", json!("yes")), "cannot convert \"yes\" to bool; only the strings \"true\" or \"false\" are allowed");
        assert_eq!(err("tobool", json!(1)), "cannot convert number to bool");
    }

    #[test]
    fn tonumber() {
        assert_eq!(ok("tonumber", json!("5")), json!(5));
        assert_eq!(ok("tonumber", json!("-1.5")), json!(-1.5));
        assert_eq!(ok("tonumber", json!(3)), json!(3));
        assert_eq!(ok("tonumber", json!(null)), json!(null));
        assert_eq!(err("tonumber", json!("abc")), "cannot convert \"abc\" to number; given string must be a decimal representation of a number");
        assert_eq!(err("tonumber", json!(true)), "cannot convert bool to number");
    }

    #[test]
    fn tostring() {
        assert_eq!(ok("tostring", json!("a")), json!("a"));
        assert_eq!(ok("tostring", json!(1.5)), json!("1.5"));
        assert_eq!(ok("tostring", json!(true)), json!("true"));
        assert_eq!(ok("tostring", json!(null)), json!(null));
        assert_eq!(err("tostring", json!([1])), "cannot convert tuple to string");
        assert_eq!(err("tostring", json!({})), "cannot convert object to string");
    }

    #[test]
    fn tolist() {
        assert_eq!(ok("tolist", json!(["a", "b"])), json!(["a", "b"]));
        assert_eq!(ok("tolist", json!([1, "a"])), json!(["1", "a"]));
        assert_eq!(ok("tolist", json!([])), json!([]));
        assert_eq!(err("tolist", json!([1, {}])), "cannot convert tuple to list of any single type");
        assert_eq!(err("tolist", json!({"a": 1})), "cannot convert object to list of any single type");
    }

    #[test]
    fn toset() {
        assert_eq!(ok("toset", json!(["b", "a", "b"])), json!(["a", "b"]));
        assert_eq!(ok("toset", json!([2, "1"])), json!(["1", "2"]));
        assert_eq!(err("toset", json!("a")), "cannot convert string to set of any single type");
    }

    #[test]
    fn tomap() {
        assert_eq!(ok("tomap", json!({"a": 1, "b": "x"})), json!({"a": "1", "b": "x"}));
        assert_eq!(ok("tomap", json!({})), json!({}));
        assert_eq!(err("tomap", json!(["a"])), "cannot convert tuple to map of any single type");
        assert_eq!(err("tomap", json!({"a": 1, "b": []})), "cannot convert object to map of any single type");
    }

    #[test]
    fn checks_arity() {
        let cwd = std::env::temp_dir();
        let ctx = FuncContext { cwd: &cwd, now: std::time::UNIX_EPOCH, render_template: &|_, t, _| Ok(Value::String(t.to_string())) };
        let e = dispatch("tostring", &[], &ctx).unwrap_err();
        assert_eq!(e.message, "function \"tostring\" expects 1 argument, but got 0");
    }
}
