//! The values HCL expressions evaluate to.
//!
//! We follow cty's dynamic model closely enough for Packer templates, with two
//! simplifications: lists, tuples and sets share one variant (a set is a list
//! kept sorted and free of duplicates, which is also cty's iteration order for
//! sets of strings and numbers), and maps and objects share one variant whose
//! keys iterate in lexical order, as cty's do.

use crate::number::Number;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    /// An arbitrary-precision number, as cty's (see [`Number`]).
    Number(Number),
    String(String),
    /// A list, tuple or set.
    List(Vec<Value>),
    /// A map or object.
    Object(BTreeMap<String, Value>),
}

/// The most memory, in bytes (as [`Value::approx_size`] counts them), that
/// one value may take. Expressions that would build more — a `for` over a
/// `for` over a `range`, a `setproduct` of long lists, a `format` width of a
/// million in a loop — fail with an error instead of exhausting memory.
pub const MAX_VALUE_SIZE: usize = 64 << 20;

impl Value {
    /// Roughly how many bytes the value takes: its text plus one slot per
    /// element and key.
    pub fn approx_size(&self) -> usize {
        const SLOT: usize = size_of::<Value>();
        SLOT + match self {
            Value::String(s) => s.len(),
            Value::List(items) => items.iter().map(Value::approx_size).sum(),
            Value::Object(map) => map.iter().map(|(k, v)| SLOT + k.len() + v.approx_size()).sum(),
            _ => 0,
        }
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// The HCL name of this value's kind, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "tuple",
            Value::Object(_) => "object",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The number as the nearest f64, for callers that compute in floating
    /// point; see [`Value::as_i64`] and [`Value::as_u64`] for exact whole
    /// numbers and [`Value::as_exact_number`] for the number itself.
    pub fn as_number(&self) -> Option<f64> {
        self.as_exact_number().map(Number::to_f64)
    }

    pub fn as_exact_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The value as an `i64` when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_exact_number().and_then(Number::to_i64)
    }

    /// The value as a `u64` when it is a non-negative whole number in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_exact_number().and_then(Number::to_u64)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as a string when HCL would convert it to one: strings,
    /// numbers and bools. `None` for null and collections.
    pub fn to_string_lossless(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Object(o) => serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    pub fn from_json(j: &serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => number_from_json(n),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()),
        }
    }

    /// Builds a set: sorted, without duplicates.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort_by(compare);
        items.dedup();
        Value::List(items)
    }
}

/// A total order over values, used for sets and `sort`: null, bools, numbers,
/// strings, lists, objects; within a kind, by content.
pub fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::List(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.cmp_value(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = compare(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((kp, p), (kq, q)) in x.iter().zip(y) {
                let o = kp.cmp(kq).then_with(|| compare(p, q));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Formats a number as HCL prints it: integers without a fraction, others in
/// their shortest exact form.
pub fn format_number(n: &Number) -> String {
    n.to_string()
}

/// JSON numbers are f64 or 64-bit integers here (serde_json without
/// arbitrary precision): whole numbers stay exact while they fit, others
/// become the nearest f64; infinities have no JSON form and become null.
fn number_to_json(n: &Number) -> serde_json::Value {
    if let Some(i) = n.to_i64() {
        return serde_json::Value::Number(i.into());
    }
    if let Some(u) = n.to_u64() {
        return serde_json::Value::Number(u.into());
    }
    serde_json::Number::from_f64(n.to_f64()).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// A JSON number read back from its text, so that `0.1` is cty's 0.1.
fn number_from_json(n: &serde_json::Number) -> Value {
    match Number::parse(&n.to_string()) {
        Some(Ok(parsed)) => Value::Number(parsed),
        _ => n.as_f64().map_or(Value::Null, Value::from),
    }
}

impl fmt::Display for Value {
    /// HCL-like rendering, used in messages and `bake inspect`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::List(l) => {
                write!(f, "[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Object(o) => {
                write!(f, "{{")?;
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<f64> for Value {
    /// The float exactly, at a float's precision, as cty's `NumberFloatVal`;
    /// NaN, which HCL has no number for, becomes null.
    fn from(n: f64) -> Value {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

macro_rules! value_from_integers {
    ($($t:ty)*) => {$(
        impl From<$t> for Value {
            /// The whole number exactly, as cty's `NumberIntVal`.
            fn from(n: $t) -> Value {
                Value::Number(Number::from(n))
            }
        }
    )*};
}
value_from_integers!(i8 i16 i32 i64 u8 u16 u32 u64 usize);

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}
