//! Functions over lists, sets, maps and objects, with Terraform's semantics
//! and messages (cty's standard library and Packer's own variants).
//!
//! Arguments are converted to each parameter's type as cty converts them, so
//! `compact([1, ""])` sees `["1", ""]` and `alltrue(["true"])` is true.

use super::{arity, check_size, FuncContext, FuncError, FuncResult};
use crate::number::Number;
use crate::types::{self, Type};
use crate::value::Value;
use std::collections::BTreeMap;

pub const NAMES: &[&str] = &[
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "merge",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    match name {
        "alltrue" => alltrue(args),
        "anytrue" => anytrue(args),
        "chunklist" => chunklist(args),
        "coalesce" => coalesce(args),
        "coalescelist" => coalescelist(args),
        "compact" => compact(args),
        "concat" => concat(args),
        "contains" => contains(args),
        "distinct" => distinct(args),
        "element" => element(args),
        "flatten" => flatten(args),
        "index" => index(args),
        "keys" => keys(args),
        "length" => length(args),
        "lookup" => lookup(args),
        "merge" => merge(args),
        "range" => range(args),
        "reverse" => reverse(args),
        "setintersection" => setintersection(args),
        "setproduct" => setproduct(args),
        "setsubtract" => setsubtract(args),
        "setunion" => setunion(args),
        "slice" => slice(args),
        "sort" => sort(args),
        "sum" => sum(args),
        "transpose" => transpose(args),
        "values" => values(args),
        "zipmap" => zipmap(args),
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

/// The argument, which must not be null: cty refuses null for any parameter
/// that does not say otherwise.
fn present(args: &[Value], i: usize) -> Result<&Value, FuncError> {
    match &args[i] {
        Value::Null => Err(FuncError::arg(i, "argument must not be null")),
        v => Ok(v),
    }
}

/// The argument converted to its parameter's type.
fn converted(args: &[Value], i: usize, ty: &Type) -> Result<Value, FuncError> {
    types::convert(present(args, i)?, ty).map_err(|e| FuncError::arg(i, e))
}

/// The elements of the argument converted to `list(element)`.
fn list_of(args: &[Value], i: usize, element: Type) -> Result<Vec<Value>, FuncError> {
    Ok(items(converted(args, i, &Type::List(Box::new(element)))?))
}

/// The elements of a value known to be a list, such as a converted one.
fn items(list: Value) -> Vec<Value> {
    match list {
        Value::List(items) => items,
        _ => Vec::new(),
    }
}

fn number(args: &[Value], i: usize) -> Result<Number, FuncError> {
    match converted(args, i, &Type::Number)? {
        Value::Number(n) => Ok(n),
        _ => Err(FuncError::arg(i, "a number is required")),
    }
}

/// A number used as an index or a count; `context` prefixes the error, as
/// in `invalid index: value must be a whole number`.
fn whole(n: &Number, i: usize, context: &str) -> Result<i64, FuncError> {
    n.to_i64().ok_or_else(|| FuncError::arg(i, format!("{context}: value must be a whole number")))
}

fn friendly_type(value: &Value) -> String {
    Type::of(value).friendly_name()
}

// ---------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------

/// Null elements count as false.
fn alltrue(args: &[Value]) -> FuncResult {
    arity("alltrue", args, 1, Some(1))?;
    let items = list_of(args, 0, Type::Bool)?;
    Ok(Value::Bool(items.iter().all(|v| *v == Value::Bool(true))))
}

fn anytrue(args: &[Value]) -> FuncResult {
    arity("anytrue", args, 1, Some(1))?;
    let items = list_of(args, 0, Type::Bool)?;
    Ok(Value::Bool(items.contains(&Value::Bool(true))))
}

/// A size of 0 gives the whole list as a single chunk.
fn chunklist(args: &[Value]) -> FuncResult {
    arity("chunklist", args, 2, Some(2))?;
    let items = list_of(args, 0, Type::Any)?;
    let size = number(args, 1)?;
    if items.is_empty() {
        return Ok(Value::List(items));
    }
    let size = whole(&size, 1, "invalid index")?;
    if size < 0 {
        return Err(FuncError::arg(1, "the size argument must be positive"));
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items)]));
    }
    Ok(Value::List(items.chunks(size as usize).map(|c| Value::List(c.to_vec())).collect()))
}

/// The first argument that is neither null nor an empty string, after all of
/// them are converted to one type: `coalesce(1, "a")` is `"1"`.
fn coalesce(args: &[Value]) -> FuncResult {
    let arg_types: Vec<Type> = args.iter().map(Type::of).collect();
    let common = types::unify(&arg_types).ok_or_else(|| FuncError::new("all arguments must have the same type"))?;
    for (i, arg) in args.iter().enumerate() {
        let value = types::convert(arg, &common).map_err(|e| FuncError::arg(i, e))?;
        let empty_string = common == Type::String && value == Value::from("");
        if !value.is_null() && !empty_string {
            return Ok(value);
        }
    }
    Err(FuncError::new("no non-null, non-empty-string arguments"))
}

/// The first non-empty list.
fn coalescelist(args: &[Value]) -> FuncResult {
    if args.is_empty() {
        return Err(FuncError::new("at least one argument is required"));
    }
    if let Some(i) = args.iter().position(|a| !matches!(a, Value::List(_) | Value::Null)) {
        return Err(FuncError::arg(i, "coalescelist arguments must be lists or tuples"));
    }
    args.iter().find(|a| a.as_list().is_some_and(|l| !l.is_empty())).cloned().ok_or_else(|| FuncError::new("no non-null arguments"))
}

/// Drops null and empty strings.
fn compact(args: &[Value]) -> FuncResult {
    arity("compact", args, 1, Some(1))?;
    let items = list_of(args, 0, Type::String)?;
    Ok(Value::List(items.into_iter().filter(|v| !v.is_null() && *v != Value::from("")).collect()))
}

fn concat(args: &[Value]) -> FuncResult {
    let mut out = Vec::new();
    for i in 0..args.len() {
        match present(args, i)? {
            Value::List(items) => out.extend(items.iter().cloned()),
            other => {
                let message = format!("all arguments must be lists or tuples; got {}", friendly_type(other));
                return Err(FuncError::arg(i, message));
            }
        }
    }
    Ok(Value::List(out))
}

/// Equality is strict, as HCL's `==`: 1 is not "1".
fn contains(args: &[Value]) -> FuncResult {
    arity("contains", args, 2, Some(2))?;
    let list = present(args, 0)?;
    let wanted = present(args, 1)?;
    let items = list.as_list().ok_or_else(|| FuncError::arg(0, "argument must be list, tuple, or set"))?;
    Ok(Value::Bool(items.contains(wanted)))
}

/// Keeps the first of equal elements, in order.
fn distinct(args: &[Value]) -> FuncResult {
    arity("distinct", args, 1, Some(1))?;
    let mut out: Vec<Value> = Vec::new();
    for v in list_of(args, 0, Type::Any)? {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::List(out))
}

/// Indexes past the end wrap around.
fn element(args: &[Value]) -> FuncResult {
    arity("element", args, 2, Some(2))?;
    let list = present(args, 0)?;
    let index = number(args, 1)?;
    if index.is_sign_negative() && !index.is_zero() {
        return Err(FuncError::arg(1, "cannot use element function with a negative index"));
    }
    let items = list.as_list().ok_or_else(|| FuncError::arg(0, format!("cannot read elements from {}", friendly_type(list))))?;
    let index = whole(&index, 1, "invalid index")?;
    if items.is_empty() {
        return Err(FuncError::arg(0, "cannot use element function with an empty list"));
    }
    Ok(items[index as usize % items.len()].clone())
}

/// Flattens nested lists at any depth.
fn flatten(args: &[Value]) -> FuncResult {
    arity("flatten", args, 1, Some(1))?;
    let items = present(args, 0)?.as_list().ok_or_else(|| FuncError::arg(0, "can only flatten lists, sets and tuples"))?;
    let mut out = Vec::new();
    flatten_into(items, &mut out);
    Ok(Value::List(out))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) {
    for v in items {
        match v {
            Value::List(inner) => flatten_into(inner, out),
            other => out.push(other.clone()),
        }
    }
}

/// The position of the first element equal to the value.
fn index(args: &[Value]) -> FuncResult {
    arity("index", args, 2, Some(2))?;
    let list = present(args, 0)?;
    let wanted = present(args, 1)?;
    let items = list.as_list().ok_or_else(|| FuncError::arg(0, "argument must be a list or tuple"))?;
    if items.is_empty() {
        return Err(FuncError::arg(0, "cannot search an empty list"));
    }
    let position = items.iter().position(|v| v == wanted).ok_or_else(|| FuncError::arg(1, "item not found"))?;
    Ok(Value::from(position))
}

/// Counts the characters of a string, the elements of a list, or the
/// attributes of an object.
fn length(args: &[Value]) -> FuncResult {
    arity("length", args, 1, Some(1))?;
    let n = match present(args, 0)? {
        Value::String(s) => grapheme_count(s),
        Value::List(items) => items.len(),
        Value::Object(attrs) => attrs.len(),
        _ => return Err(FuncError::arg(0, "argument must be a string, a collection type, or a structural type")),
    };
    Ok(Value::from(n))
}

/// Approximates the user-perceived characters (grapheme clusters) Terraform
/// counts: combining marks, variation selectors, emoji modifiers and
/// zero-width-joined emoji belong to the character before them, and "\r\n"
/// is one.
fn grapheme_count(s: &str) -> usize {
    let mut count = 0;
    let mut prev = None;
    for c in s.chars() {
        let joins = match prev {
            None => false,
            Some('\u{200D}') => is_emoji(c),
            Some('\r') => c == '\n' || extends(c),
            Some(_) => extends(c),
        };
        if !joins {
            count += 1;
        }
        prev = Some(c);
    }
    count
}

fn extends(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{200D}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}')
}

fn is_emoji(c: char) -> bool {
    matches!(c, '\u{2600}'..='\u{27BF}' | '\u{1F000}'..='\u{1FAFF}')
}

/// `range(limit)`, `range(start, limit)` or `range(start, limit, step)`; the
/// limit is excluded, and at most 1024 numbers are made.
fn range(args: &[Value]) -> FuncResult {
    let numbers = (0..args.len()).map(|i| number(args, i)).collect::<Result<Vec<_>, _>>()?;
    let one = |negative: bool| Number::from(if negative { -1 } else { 1 });
    let (start, end, step) = match &numbers[..] {
        [end] => (Number::ZERO, end.clone(), one(end.cmp_value(&Number::ZERO).is_lt())),
        [start, end] => (start.clone(), end.clone(), one(end.cmp_value(start).is_lt())),
        [start, end, step] => (start.clone(), end.clone(), step.clone()),
        _ => return Err(FuncError::new("must have one, two, or three arguments")),
    };
    if step.is_zero() {
        return Err(FuncError::arg(2, "step must not be zero"));
    }
    let down = step.is_sign_negative();
    if down && end.cmp_value(&start).is_gt() {
        return Err(FuncError::arg(1, "end must be less than start when step is negative"));
    }
    if !down && end.cmp_value(&start).is_lt() {
        return Err(FuncError::arg(1, "end must be greater than start when step is positive"));
    }
    // Accumulated as cty does (v = v + step); exact for decimal steps.
    let mut out = Vec::new();
    let mut n = start;
    loop {
        let order = n.cmp_value(&end);
        if (down && order.is_le()) || (!down && order.is_ge()) {
            break;
        }
        if out.len() >= 1024 {
            return Err(FuncError::new("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step"));
        }
        let next = n.add(&step).map_err(|e| FuncError::new(e.to_string()))?;
        out.push(Value::Number(n));
        n = next;
    }
    Ok(Value::List(out))
}

fn reverse(args: &[Value]) -> FuncResult {
    arity("reverse", args, 1, Some(1))?;
    let list = present(args, 0)?;
    let items = list.as_list().ok_or_else(|| FuncError::arg(0, format!("can only reverse list or tuple values, not {}", friendly_type(list))))?;
    Ok(Value::List(items.iter().rev().cloned().collect()))
}

/// The elements from `start` up to, not including, `end`.
fn slice(args: &[Value]) -> FuncResult {
    arity("slice", args, 3, Some(3))?;
    let items = present(args, 0)?.as_list().ok_or_else(|| FuncError::arg(0, "must be a list or tuple value"))?;
    let start = slice_index(args, 1, "start", items.len())?;
    let end = slice_index(args, 2, "end", items.len())?;
    if start > end {
        return Err(FuncError::arg(1, "start index must not be greater than end index"));
    }
    Ok(Value::List(items[start..end].to_vec()))
}

fn slice_index(args: &[Value], i: usize, which: &str, len: usize) -> Result<usize, FuncError> {
    let n = whole(&number(args, i)?, i, &format!("invalid {which} index"))?;
    if n < 0 {
        return Err(FuncError::arg(i, format!("{which} index must not be less than zero")));
    }
    let n = n as usize;
    if n > len {
        return Err(FuncError::arg(i, format!("{which} index must not be greater than the length of the list")));
    }
    Ok(n)
}

/// Sorts lexically, as strings: numbers are converted, so 10 sorts before 9.
fn sort(args: &[Value]) -> FuncResult {
    arity("sort", args, 1, Some(1))?;
    let mut strings = list_of(args, 0, Type::String)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) => Ok(s),
            _ => Err(FuncError::arg(0, format!("given list element {i} is null; a null string cannot be sorted"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    strings.sort();
    Ok(Value::List(strings.into_iter().map(Value::String).collect()))
}

/// Packer's `sum`: elements that convert to numbers, at least one of them.
fn sum(args: &[Value]) -> FuncResult {
    arity("sum", args, 1, Some(1))?;
    let items = match present(args, 0)? {
        Value::List(items) if !items.is_empty() => items,
        Value::List(_) => return Err(FuncError::arg(0, "cannot sum an empty list")),
        Value::Object(attrs) if attrs.is_empty() => return Err(FuncError::arg(0, "cannot sum an empty list")),
        Value::Object(_) => return Err(FuncError::arg(0, "argument must be list, set, or tuple. Received object")),
        _ => return Err(FuncError::arg(0, "cannot sum noniterable")),
    };
    let mut total: Option<Number> = None;
    for item in items {
        let n = match types::convert(item, &Type::Number) {
            Ok(Value::Number(n)) => n,
            _ => return Err(FuncError::arg(0, "argument must be list, set, or tuple of number values")),
        };
        total = Some(match total {
            None => n,
            Some(t) => t.add(&n).map_err(|e| FuncError::new(e.to_string()))?,
        });
    }
    Ok(total.map_or(Value::Null, Value::Number))
}

// ---------------------------------------------------------------------------
// Maps and objects
// ---------------------------------------------------------------------------

/// Keys in lexical order.
fn keys(args: &[Value]) -> FuncResult {
    arity("keys", args, 1, Some(1))?;
    let attrs = present(args, 0)?.as_object().ok_or_else(|| FuncError::arg(0, "must have map or object type"))?;
    Ok(Value::List(attrs.keys().map(|k| Value::from(k.as_str())).collect()))
}

/// Values in the lexical order of their keys.
fn values(args: &[Value]) -> FuncResult {
    arity("values", args, 1, Some(1))?;
    let attrs = present(args, 0)?.as_object().ok_or_else(|| FuncError::arg(0, "values() requires a map as the first argument"))?;
    Ok(Value::List(attrs.values().cloned().collect()))
}

/// `lookup(map, key)` or `lookup(map, key, default)`.
fn lookup(args: &[Value]) -> FuncResult {
    arity("lookup", args, 2, Some(3))?;
    let map = present(args, 0)?;
    let key = converted(args, 1, &Type::String)?;
    let key = key.as_str().unwrap_or_default();
    let attrs = map.as_object().ok_or_else(|| FuncError::arg(0, "lookup() requires a map as the first argument"))?;
    if let Some(found) = attrs.get(key) {
        return Ok(found.clone());
    }
    match args.get(2) {
        Some(default) => Ok(default.clone()),
        None => Err(FuncError::arg(0, format!("the given object has no attribute {key:?}"))),
    }
}

/// Later arguments win; null arguments are skipped, and when every argument
/// is null (or there is none) so is the result.
fn merge(args: &[Value]) -> FuncResult {
    let mut merged = BTreeMap::new();
    let mut all_null = true;
    for (i, arg) in args.iter().enumerate() {
        match arg {
            Value::Null => {}
            Value::Object(attrs) => {
                all_null = false;
                merged.extend(attrs.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            other => {
                let message = format!("arguments must be maps or objects, got \"{}\"", friendly_type(other));
                return Err(FuncError::arg(i, message));
            }
        }
    }
    Ok(if all_null { Value::Null } else { Value::Object(merged) })
}

/// Swaps a map of lists of strings inside out: `{a = ["x"], b = ["x"]}`
/// becomes `{x = ["a", "b"]}`.
fn transpose(args: &[Value]) -> FuncResult {
    arity("transpose", args, 1, Some(1))?;
    let string_lists = Type::Map(Box::new(Type::List(Box::new(Type::String))));
    let input = converted(args, 0, &string_lists)?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, list) in input.as_object().into_iter().flatten() {
        let list = list.as_list().ok_or_else(|| FuncError::arg(0, "input must not contain null list"))?;
        for item in list {
            let item = item.as_str().ok_or_else(|| FuncError::arg(0, "input must not contain null strings"))?;
            out.entry(item.to_string()).or_default().push(Value::from(key.as_str()));
        }
    }
    Ok(Value::Object(out.into_iter().map(|(k, v)| (k, Value::List(v))).collect()))
}

/// Pairs a list of keys with a list of values; a repeated key keeps its last value.
fn zipmap(args: &[Value]) -> FuncResult {
    arity("zipmap", args, 2, Some(2))?;
    let keys = list_of(args, 0, Type::String)?;
    let values = present(args, 1)?.as_list().ok_or_else(|| FuncError::arg(1, "values argument must be a list or tuple value"))?;
    if keys.len() != values.len() {
        return Err(FuncError::new(format!("number of keys ({}) does not match number of values ({})", keys.len(), values.len())));
    }
    let mut out = BTreeMap::new();
    for (i, (key, value)) in keys.iter().zip(values).enumerate() {
        let key = key.as_str().ok_or_else(|| FuncError::arg(0, format!("keys list has null value at index {i}")))?;
        out.insert(key.to_string(), value.clone());
    }
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------
// Sets
// ---------------------------------------------------------------------------

/// Converts every argument to a set, then all of them to one element type,
/// as cty does before a set operation: `setunion(["a"], [1])` is `["1", "a"]`.
fn sets(args: &[Value]) -> Result<Vec<Vec<Value>>, FuncError> {
    let any_set = Type::Set(Box::new(Type::Any));
    let sets = (0..args.len()).map(|i| converted(args, i, &any_set).map(items)).collect::<Result<Vec<_>, _>>()?;
    let element_types: Vec<Type> = sets.iter().flatten().map(Type::of).collect();
    let common = types::unify(&element_types).ok_or_else(|| FuncError::new("given sets must all have compatible element types"))?;
    let target = Type::Set(Box::new(common));
    sets.into_iter().enumerate().map(|(i, set)| types::convert(&Value::List(set), &target).map(items).map_err(|e| FuncError::arg(i, e))).collect()
}

fn setunion(args: &[Value]) -> FuncResult {
    arity("setunion", args, 1, None)?;
    Ok(Value::set(sets(args)?.concat()))
}

fn setintersection(args: &[Value]) -> FuncResult {
    arity("setintersection", args, 1, None)?;
    let sets = sets(args)?;
    let (first, others) = sets.split_first().expect("arity checked");
    let common = first.iter().filter(|v| others.iter().all(|s| s.contains(v))).cloned().collect();
    Ok(Value::set(common))
}

fn setsubtract(args: &[Value]) -> FuncResult {
    arity("setsubtract", args, 2, Some(2))?;
    let sets = sets(args)?;
    let remaining = sets[0].iter().filter(|v| !sets[1].contains(v)).cloned().collect();
    Ok(Value::set(remaining))
}

/// Every combination taking one element from each argument, the last
/// argument varying fastest.
fn setproduct(args: &[Value]) -> FuncResult {
    if args.len() < 2 {
        return Err(FuncError::new("at least two arguments are required"));
    }
    let factors = (0..args.len()).map(|i| product_factor(args, i)).collect::<Result<Vec<_>, _>>()?;
    // Count the combinations before building them: three lists of a thousand
    // make a billion.
    let combinations = factors.iter().fold(1usize, |n, f| n.saturating_mul(f.len()));
    let largest: usize = factors.iter().map(|f| f.iter().map(Value::approx_size).max().unwrap_or(0)).sum();
    check_size(combinations.saturating_mul(largest))?;
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for factor in &factors {
        product = product
            .iter()
            .flat_map(|prefix| {
                factor.iter().map(move |v| {
                    let mut combination = prefix.clone();
                    combination.push(v.clone());
                    combination
                })
            })
            .collect();
    }
    Ok(Value::List(product.into_iter().map(Value::List).collect()))
}

/// One argument of `setproduct`, its elements brought to one type.
fn product_factor(args: &[Value], i: usize) -> Result<Vec<Value>, FuncError> {
    let items = present(args, i)?.as_list().ok_or_else(|| FuncError::arg(i, "a set or a list is required"))?;
    let element_types: Vec<Type> = items.iter().map(Type::of).collect();
    let common = types::unify(&element_types).ok_or_else(|| FuncError::arg(i, "all elements must be of the same type"))?;
    items.iter().map(|v| types::convert(v, &common).map_err(|e| FuncError::arg(i, e))).collect()
}

#[cfg(test)]
mod tests {
    use super::super::{call as dispatch, FuncContext};
    use super::*;
    use serde_json::json;

    /// Calls `name` with the elements of the JSON array `args`.
    fn run(name: &str, args: serde_json::Value) -> FuncResult {
        let cwd = std::env::temp_dir();
        let ctx = FuncContext { cwd: &cwd, now: std::time::UNIX_EPOCH, render_template: &|_, t, _| Ok(Value::String(t.to_string())) };
        let args: Vec<Value> = args.as_array().expect("args as a JSON array").iter().map(Value::from_json).collect();
        dispatch(name, &args, &ctx)
    }

    fn ok(name: &str, args: serde_json::Value) -> serde_json::Value {
        run(name, args).unwrap_or_else(|e| panic!("{name}: {}", e.message)).to_json()
    }

    fn err(name: &str, args: serde_json::Value) -> String {
        run(name, args).expect_err("expected an error").message
    }

    /// The error and the index of the argument it blames.
    fn arg_err(name: &str, args: serde_json::Value) -> (Option<usize>, String) {
        let e = run(name, args).expect_err("expected an error");
        (e.arg, e.message)
    }

    #[test]
    fn every_name_dispatches() {
        for name in NAMES {
            let e = run(name, json!([])).err().map(|e| e.message).unwrap_or_default();
            assert!(!e.contains("no function named"), "{name}");
        }
    }

    #[test]
    fn alltrue() {
        assert_eq!(ok("alltrue", json!([[true, true]])), json!(true));
        assert_eq!(ok("alltrue", json!([[true, false]])), json!(false));
        assert_eq!(ok("alltrue", json!([[]])), json!(true));
        assert_eq!(ok("alltrue", json!([["true", true]])), json!(true));
        assert_eq!(ok("alltrue", json!([[true, null]])), json!(false));
        assert_eq!(arg_err("alltrue", json!([[1]])), (Some(0), "element 0: bool required".into()));
        assert_eq!(arg_err("alltrue", json!([null])), (Some(0), "argument must not be null".into()));
    }

    #[test]
    fn anytrue() {
        assert_eq!(ok("anytrue", json!([[false, true]])), json!(true));
        assert_eq!(ok("anytrue", json!([[false, null]])), json!(false));
        assert_eq!(ok("anytrue", json!([[]])), json!(false));
        assert_eq!(ok("anytrue", json!([["true"]])), json!(true));
        assert_eq!(err("anytrue", json!([["maybe"]])), "element 0: a bool is required");
    }

    #[test]
    fn chunklist() {
        assert_eq!(ok("chunklist", json!([["a", "b", "c"], 2])), json!([["a", "b"], ["c"]]));
        assert_eq!(ok("chunklist", json!([["a", "b"], 1])), json!([["a"], ["b"]]));
        assert_eq!(ok("chunklist", json!([["a", "b"], 0])), json!([["a", "b"]]));
        assert_eq!(ok("chunklist", json!([[], 3])), json!([]));
        assert_eq!(ok("chunklist", json!([[1, "a"], 5])), json!([["1", "a"]]));
        assert_eq!(arg_err("chunklist", json!([["a"], -1])), (Some(1), "the size argument must be positive".into()));
        assert_eq!(err("chunklist", json!([["a"], 1.5])), "invalid index: value must be a whole number");
    }

    #[test]
    fn coalesce() {
        assert_eq!(ok("coalesce", json!([null, "", "b", "c"])), json!("b"));
        assert_eq!(ok("coalesce", json!([null, 1, 2])), json!(1));
        assert_eq!(ok("coalesce", json!([1, "a"])), json!("1"));
        assert_eq!(ok("coalesce", json!(["", 2])), json!("2"));
        assert_eq!(ok("coalesce", json!([[], ["a"]])), json!([]));
        assert_eq!(err("coalesce", json!([null, ""])), "no non-null, non-empty-string arguments");
        assert_eq!(err("coalesce", json!([])), "no non-null, non-empty-string arguments");
        assert_eq!(err("coalesce", json!([1, true])), "all arguments must have the same type");
    }

    #[test]
    fn coalescelist() {
        assert_eq!(ok("coalescelist", json!([[], ["a"], ["b"]])), json!(["a"]));
        assert_eq!(ok("coalescelist", json!([null, [1]])), json!([1]));
        assert_eq!(err("coalescelist", json!([[], []])), "no non-null arguments");
        assert_eq!(err("coalescelist", json!([])), "at least one argument is required");
        assert_eq!(arg_err("coalescelist", json!([["a"], "b"])), (Some(1), "coalescelist arguments must be lists or tuples".into()));
    }

    #[test]
    fn compact() {
        assert_eq!(ok("compact", json!([["a", "", null, "b"]])), json!(["a", "b"]));
        assert_eq!(ok("compact", json!([[1, ""]])), json!(["1"]));
        assert_eq!(ok("compact", json!([[]])), json!([]));
        assert_eq!(err("compact", json!([[["a"]]])), "element 0: string required");
    }

    #[test]
    fn concat() {
        assert_eq!(ok("concat", json!([["a"], [], ["b", 1]])), json!(["a", "b", 1]));
        assert_eq!(ok("concat", json!([])), json!([]));
        assert_eq!(arg_err("concat", json!([["a"], "b"])), (Some(1), "all arguments must be lists or tuples; got string".into()));
        assert_eq!(arg_err("concat", json!([null])), (Some(0), "argument must not be null".into()));
    }

    #[test]
    fn contains() {
        assert_eq!(ok("contains", json!([["a", "b"], "b"])), json!(true));
        assert_eq!(ok("contains", json!([["a", "b"], "c"])), json!(false));
        assert_eq!(ok("contains", json!([["1"], 1])), json!(false));
        assert_eq!(ok("contains", json!([[[1, 2]], [1, 2]])), json!(true));
        assert_eq!(ok("contains", json!([[], "a"])), json!(false));
        assert_eq!(arg_err("contains", json!([{"a": 1}, "a"])), (Some(0), "argument must be list, tuple, or set".into()));
        assert_eq!(arg_err("contains", json!([["a"], null])), (Some(1), "argument must not be null".into()));
    }

    #[test]
    fn distinct() {
        assert_eq!(ok("distinct", json!([["b", "a", "b", "c", "a"]])), json!(["b", "a", "c"]));
        assert_eq!(ok("distinct", json!([[1, "1"]])), json!(["1"]));
        assert_eq!(ok("distinct", json!([[]])), json!([]));
        assert_eq!(err("distinct", json!([[1, {}]])), "all list elements must have the same type");
    }

    #[test]
    fn element() {
        assert_eq!(ok("element", json!([["a", "b", "c"], 1])), json!("b"));
        assert_eq!(ok("element", json!([["a", "b", "c"], 5])), json!("c"));
        assert_eq!(ok("element", json!([["a", "b"], "1"])), json!("b"));
        assert_eq!(arg_err("element", json!([["a"], -1])), (Some(1), "cannot use element function with a negative index".into()));
        assert_eq!(err("element", json!([[], 0])), "cannot use element function with an empty list");
        assert_eq!(err("element", json!([["a"], 0.5])), "invalid index: value must be a whole number");
        assert_eq!(err("element", json!(["abc", 0])), "cannot read elements from string");
    }

    #[test]
    fn flatten() {
        assert_eq!(ok("flatten", json!([[["a", "b"], [], ["c"]]])), json!(["a", "b", "c"]));
        assert_eq!(ok("flatten", json!([[[["a", ["b"]]], "c", null]])), json!(["a", "b", "c", null]));
        assert_eq!(ok("flatten", json!([[{"a": [1]}]])), json!([{"a": [1]}]));
        assert_eq!(err("flatten", json!(["a"])), "can only flatten lists, sets and tuples");
    }

    #[test]
    fn index() {
        assert_eq!(ok("index", json!([["a", "b", "c"], "b"])), json!(1));
        assert_eq!(ok("index", json!([["a", "b", "b"], "b"])), json!(1));
        assert_eq!(arg_err("index", json!([["a"], "z"])), (Some(1), "item not found".into()));
        assert_eq!(err("index", json!([[], "z"])), "cannot search an empty list");
        assert_eq!(err("index", json!([{"a": 1}, 1])), "argument must be a list or tuple");
        assert_eq!(err("index", json!([["1"], 1])), "item not found");
    }

    #[test]
    fn keys_and_values() {
        assert_eq!(ok("keys", json!([{"b": 1, "a": 2, "c": 3}])), json!(["a", "b", "c"]));
        assert_eq!(ok("keys", json!([{}])), json!([]));
        assert_eq!(arg_err("keys", json!([["a"]])), (Some(0), "must have map or object type".into()));
        assert_eq!(ok("values", json!([{"b": 1, "a": 2, "c": [3]}])), json!([2, 1, [3]]));
        assert_eq!(ok("values", json!([{}])), json!([]));
        assert_eq!(err("values", json!(["a"])), "values() requires a map as the first argument");
    }

    #[test]
    fn length() {
        assert_eq!(ok("length", json!(["hello"])), json!(5));
        assert_eq!(ok("length", json!([""])), json!(0));
        assert_eq!(ok("length", json!(["héllo"])), json!(5));
        assert_eq!(ok("length", json!(["he\u{0301}llo"])), json!(5));
        assert_eq!(ok("length", json!(["👍🏽!"])), json!(2));
        assert_eq!(ok("length", json!(["a\r\nb"])), json!(3));
        assert_eq!(ok("length", json!([[1, 2, 3]])), json!(3));
        assert_eq!(ok("length", json!([{"a": 1, "b": 2}])), json!(2));
        assert_eq!(err("length", json!([5])), "argument must be a string, a collection type, or a structural type");
        assert_eq!(err("length", json!([null])), "argument must not be null");
    }

    #[test]
    fn lookup() {
        assert_eq!(ok("lookup", json!([{"a": "x", "b": "y"}, "a"])), json!("x"));
        assert_eq!(ok("lookup", json!([{"a": "x"}, "z", "dflt"])), json!("dflt"));
        assert_eq!(ok("lookup", json!([{"a": "x"}, "z", null])), json!(null));
        assert_eq!(ok("lookup", json!([{"1": "one"}, 1])), json!("one"));
        assert_eq!(arg_err("lookup", json!([{"a": "x"}, "z"])), (Some(0), "the given object has no attribute \"z\"".into()));
        assert_eq!(err("lookup", json!([["a"], "a"])), "lookup() requires a map as the first argument");
        assert_eq!(err("lookup", json!([{}])), "function \"lookup\" expects 2 to 3 arguments, but got 1");
    }

    #[test]
    fn merge() {
        assert_eq!(ok("merge", json!([{"a": 1, "b": 2}, {"b": 3, "c": 4}])), json!({"a": 1, "b": 3, "c": 4}));
        assert_eq!(ok("merge", json!([null, {"a": 1}, null])), json!({"a": 1}));
        assert_eq!(ok("merge", json!([{}, {}])), json!({}));
        assert_eq!(ok("merge", json!([null])), json!(null));
        assert_eq!(ok("merge", json!([])), json!(null));
        assert_eq!(arg_err("merge", json!([{}, ["a"]])), (Some(1), "arguments must be maps or objects, got \"tuple\"".into()));
    }

    #[test]
    fn range() {
        assert_eq!(ok("range", json!([3])), json!([0, 1, 2]));
        assert_eq!(ok("range", json!([-3])), json!([0, -1, -2]));
        assert_eq!(ok("range", json!([0])), json!([]));
        assert_eq!(ok("range", json!([1, 4])), json!([1, 2, 3]));
        assert_eq!(ok("range", json!([4, 1])), json!([4, 3, 2]));
        assert_eq!(ok("range", json!([0, 10, 3])), json!([0, 3, 6, 9]));
        assert_eq!(ok("range", json!([10, 0, -4])), json!([10, 6, 2]));
        assert_eq!(ok("range", json!([0, 0.5, 0.1])), json!([0, 0.1, 0.2, 0.3, 0.4]));
        assert_eq!(ok("range", json!([0, 1024])).as_array().map(Vec::len), Some(1024));
        assert_eq!(
            err("range", json!([0, 1025])),
            "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step"
        );
        assert_eq!(arg_err("range", json!([0, 5, 0])), (Some(2), "step must not be zero".into()));
        assert_eq!(arg_err("range", json!([0, 5, -1])), (Some(1), "end must be less than start when step is negative".into()));
        assert_eq!(arg_err("range", json!([5, 0, 1])), (Some(1), "end must be greater than start when step is positive".into()));
        assert_eq!(err("range", json!([])), "must have one, two, or three arguments");
        assert_eq!(err("range", json!([1, 2, 3, 4])), "must have one, two, or three arguments");
        assert_eq!(arg_err("range", json!(["x"])), (Some(0), "a number is required".into()));
    }

    #[test]
    fn reverse() {
        assert_eq!(ok("reverse", json!([[1, "b", null]])), json!([null, "b", 1]));
        assert_eq!(ok("reverse", json!([[]])), json!([]));
        assert_eq!(err("reverse", json!([{"a": 1}])), "can only reverse list or tuple values, not object");
    }

    #[test]
    fn setunion() {
        assert_eq!(ok("setunion", json!([["b", "a"], ["c", "a"]])), json!(["a", "b", "c"]));
        assert_eq!(ok("setunion", json!([["a"], [1]])), json!(["1", "a"]));
        assert_eq!(ok("setunion", json!([[], [2, 1]])), json!([1, 2]));
        assert_eq!(ok("setunion", json!([["a"]])), json!(["a"]));
        assert_eq!(err("setunion", json!([[1], [true]])), "given sets must all have compatible element types");
        assert_eq!(arg_err("setunion", json!([["a"], "b"])), (Some(1), "set of any single type required".into()));
        assert!(err("setunion", json!([])).contains("expects at least 1"));
    }

    #[test]
    fn setintersection() {
        assert_eq!(ok("setintersection", json!([["a", "b", "c"], ["b", "c", "d"], ["c", "b"]])), json!(["b", "c"]));
        assert_eq!(ok("setintersection", json!([["a"], ["b"]])), json!([]));
        assert_eq!(ok("setintersection", json!([["1", "2"], [2]])), json!(["2"]));
        assert_eq!(ok("setintersection", json!([["b", "a", "b"]])), json!(["a", "b"]));
    }

    #[test]
    fn setsubtract() {
        assert_eq!(ok("setsubtract", json!([["a", "b", "c"], ["a", "c"]])), json!(["b"]));
        assert_eq!(ok("setsubtract", json!([["a"], []])), json!(["a"]));
        assert_eq!(ok("setsubtract", json!([[], ["a"]])), json!([]));
        assert_eq!(err("setsubtract", json!([["a"]])), "function \"setsubtract\" expects 2 arguments, but got 1");
    }

    #[test]
    fn setproduct() {
        assert_eq!(ok("setproduct", json!([["a", "b"], [1, 2]])), json!([["a", 1], ["a", 2], ["b", 1], ["b", 2]]));
        assert_eq!(ok("setproduct", json!([["a"], ["x", 1], [true]])), json!([["a", "x", true], ["a", "1", true]]));
        assert_eq!(ok("setproduct", json!([["a"], []])), json!([]));
        assert_eq!(err("setproduct", json!([["a"]])), "at least two arguments are required");
        assert_eq!(arg_err("setproduct", json!([["a"], "b"])), (Some(1), "a set or a list is required".into()));
        assert_eq!(arg_err("setproduct", json!([[1, true], ["b"]])), (Some(0), "all elements must be of the same type".into()));
    }

    #[test]
    fn slice() {
        assert_eq!(ok("slice", json!([["a", "b", "c", "d"], 1, 3])), json!(["b", "c"]));
        assert_eq!(ok("slice", json!([["a", "b"], 0, 2])), json!(["a", "b"]));
        assert_eq!(ok("slice", json!([["a", "b"], 1, 1])), json!([]));
        assert_eq!(arg_err("slice", json!([["a"], -1, 1])), (Some(1), "start index must not be less than zero".into()));
        assert_eq!(arg_err("slice", json!([["a"], 0, 2])), (Some(2), "end index must not be greater than the length of the list".into()));
        assert_eq!(arg_err("slice", json!([["a"], 2, 1])), (Some(1), "start index must not be greater than the length of the list".into()));
        assert_eq!(arg_err("slice", json!([["a", "b"], 2, 1])), (Some(1), "start index must not be greater than end index".into()));
        assert_eq!(err("slice", json!([["a"], 0.5, 1])), "invalid start index: value must be a whole number");
        assert_eq!(err("slice", json!(["abc", 0, 1])), "must be a list or tuple value");
    }

    #[test]
    fn sort() {
        assert_eq!(ok("sort", json!([["c", "a", "B", "b"]])), json!(["B", "a", "b", "c"]));
        assert_eq!(ok("sort", json!([[10, 9, 1]])), json!(["1", "10", "9"]));
        assert_eq!(ok("sort", json!([[]])), json!([]));
        assert_eq!(err("sort", json!([["a", null]])), "given list element 1 is null; a null string cannot be sorted");
        assert_eq!(err("sort", json!([[["a"]]])), "element 0: string required");
    }

    #[test]
    fn sum() {
        assert_eq!(ok("sum", json!([[1, 2, 3]])), json!(6));
        assert_eq!(ok("sum", json!([[0.1, 0.2]])), json!(0.3));
        assert_eq!(ok("sum", json!([["1", 2.5]])), json!(3.5));
        assert_eq!(ok("sum", json!([[-1]])), json!(-1));
        assert_eq!(err("sum", json!([[]])), "cannot sum an empty list");
        assert_eq!(err("sum", json!([["a"]])), "argument must be list, set, or tuple of number values");
        assert_eq!(err("sum", json!([[1, null]])), "argument must be list, set, or tuple of number values");
        assert_eq!(err("sum", json!([{"a": 1}])), "argument must be list, set, or tuple. Received object");
        assert_eq!(err("sum", json!([5])), "cannot sum noniterable");
    }

    #[test]
    fn transpose() {
        assert_eq!(ok("transpose", json!([{"a": ["1", "2"], "b": ["2", "3"]}])), json!({"1": ["a"], "2": ["a", "b"], "3": ["b"]}));
        assert_eq!(ok("transpose", json!([{}])), json!({}));
        assert_eq!(ok("transpose", json!([{"a": [1]}])), json!({"1": ["a"]}));
        assert_eq!(err("transpose", json!([{"a": "x"}])), "element \"a\": list of string required");
        assert_eq!(err("transpose", json!([{"a": null}])), "input must not contain null list");
        assert_eq!(err("transpose", json!([{"a": [null]}])), "input must not contain null strings");
    }

    #[test]
    fn zipmap() {
        assert_eq!(ok("zipmap", json!([["a", "b"], [1, 2]])), json!({"a": 1, "b": 2}));
        assert_eq!(ok("zipmap", json!([["a", "a"], [1, 2]])), json!({"a": 2}));
        assert_eq!(ok("zipmap", json!([[], []])), json!({}));
        assert_eq!(ok("zipmap", json!([[1], [[true]]])), json!({"1": [true]}));
        assert_eq!(err("zipmap", json!([["a"], [1, 2]])), "number of keys (1) does not match number of values (2)");
        assert_eq!(arg_err("zipmap", json!([[null], [1]])), (Some(0), "keys list has null value at index 0".into()));
        assert_eq!(arg_err("zipmap", json!([["a"], "b"])), (Some(1), "values argument must be a list or tuple value".into()));
    }
}
