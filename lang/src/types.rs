//! Type constraints (`list(string)`, `object({ a = optional(number, 1) })` …)
//! and cty's conversion rules between values and types.
//!
//! Values carry no static type, so a value's type is inferred the way cty
//! types a literal: a list is a tuple of its elements' types, an object an
//! object of its attributes' types, and null has no type of its own (`any`).

use crate::ast::{Expr, ExprKind, ObjectKey, TemplatePart, UnaryOp};
use crate::diag::{suggest, Diagnostic};
use crate::number::Number;
use crate::source::Span;
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt;

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

impl ObjectAttr {
    /// An attribute that must be present.
    pub fn required(ty: Type) -> ObjectAttr {
        ObjectAttr { ty, optional: false, default: None }
    }
}

impl Type {
    /// The type cty gives a value written as a literal: lists are tuples,
    /// objects are objects, and null is `any`.
    pub fn of(value: &Value) -> Type {
        match value {
            Value::Null => Type::Any,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::Tuple(items.iter().map(Type::of).collect()),
            Value::Object(attrs) => Type::Object(attrs.iter().map(|(name, v)| (name.clone(), ObjectAttr::required(Type::of(v)))).collect()),
        }
    }

    /// The type in words, as cty names a type constraint in messages:
    /// `list of string`, `map of any single type`.
    pub fn friendly_name(&self) -> String {
        let element = |t: &Type| match t {
            Type::Any => "any single type".to_string(),
            t => t.friendly_name(),
        };
        match self {
            Type::Any => "any type".to_string(),
            Type::String => "string".to_string(),
            Type::Number => "number".to_string(),
            Type::Bool => "bool".to_string(),
            Type::List(t) => format!("list of {}", element(t)),
            Type::Set(t) => format!("set of {}", element(t)),
            Type::Map(t) => format!("map of {}", element(t)),
            Type::Tuple(_) => "tuple".to_string(),
            Type::Object(_) => "object".to_string(),
        }
    }
}

impl fmt::Display for Type {
    /// HCL type syntax, compact as Terraform prints it:
    /// `object({name=string,port=optional(number)})`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => write!(f, "any"),
            Type::String => write!(f, "string"),
            Type::Number => write!(f, "number"),
            Type::Bool => write!(f, "bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(types) => {
                write!(f, "tuple([")?;
                for (i, t) in types.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, "])")
            }
            Type::Object(attrs) => {
                write!(f, "object({{")?;
                for (i, (name, attr)) in attrs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    if is_identifier(name) {
                        write!(f, "{name}=")?;
                    } else {
                        write!(f, "{name:?}=")?;
                    }
                    match (&attr.default, attr.optional) {
                        (Some(default), _) => write!(f, "optional({},{default})", attr.ty)?,
                        (None, true) => write!(f, "optional({})", attr.ty)?,
                        (None, false) => write!(f, "{}", attr.ty)?,
                    }
                }
                write!(f, "}})")
            }
        }
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

// ---------------------------------------------------------------------------
// Parsing type expressions
// ---------------------------------------------------------------------------

const KEYWORDS: &[&str] = &["string", "number", "bool", "any", "list", "set", "map", "tuple", "object"];
const CONSTRUCTORS: &[&str] = &["list", "set", "map", "tuple", "object"];
const VALID_TYPES: &str = "valid types are string, number, bool, any, list(T), set(T), map(T), \
                           tuple([T, ...]) and object({name = T, ...})";

/// Reads a type expression such as `map(list(string))`.
///
/// Besides the HCL type syntax this accepts what Packer inherited from
/// Terraform 0.11: the quoted hints `"string"`, `"list"` and `"map"`, and bare
/// `list` and `map`, the last four meaning `list(any)` and `map(any)`.
pub fn parse(expr: &Expr) -> Result<Type, Diagnostic> {
    match &expr.kind {
        ExprKind::Literal(Value::String(hint)) => legacy_hint(hint, expr.span),
        ExprKind::Variable(name) if name == "list" => Ok(Type::List(Box::new(Type::Any))),
        ExprKind::Variable(name) if name == "map" => Ok(Type::Map(Box::new(Type::Any))),
        _ => parse_type(expr),
    }
}

fn legacy_hint(hint: &str, span: Span) -> Result<Type, Diagnostic> {
    match hint {
        "string" => Ok(Type::String),
        "list" => Ok(Type::List(Box::new(Type::Any))),
        "map" => Ok(Type::Map(Box::new(Type::Any))),
        _ => Err(Diagnostic::error(
            "Invalid legacy variable type hint",
            "The legacy variable type hint form, using a quoted string, allows only the values \
             \"string\", \"list\", and \"map\". To provide a full type expression, remove the \
             surrounding quotes and give the type expression directly.",
        )
        .at(span)),
    }
}

fn invalid_type(span: Span, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error("Invalid type specification", detail).at(span)
}

fn parse_type(expr: &Expr) -> Result<Type, Diagnostic> {
    match &expr.kind {
        ExprKind::Parens(inner) => parse_type(inner),
        ExprKind::Variable(name) => parse_keyword(name, expr.span),
        ExprKind::Call(call) => parse_constructor(&call.name, &call.args, expr.span),
        _ => Err(invalid_type(
            expr.span,
            "A type specification is either a primitive type keyword (bool, number, string), \
             a type constructor call like list(string), or the keyword any.",
        )
        .with_help(VALID_TYPES)),
    }
}

fn parse_keyword(name: &str, span: Span) -> Result<Type, Diagnostic> {
    match name {
        "string" => Ok(Type::String),
        "number" => Ok(Type::Number),
        "bool" => Ok(Type::Bool),
        "any" => Ok(Type::Any),
        "list" | "set" | "map" | "tuple" | "object" => Err(missing_argument(name, span)),
        "optional" => Err(optional_misplaced(span)),
        _ => {
            let help = match suggest(name, KEYWORDS.iter().copied()) {
                Some(close) => format!("did you mean \"{close}\"? {VALID_TYPES}"),
                None => VALID_TYPES.to_string(),
            };
            Err(invalid_type(span, format!("The keyword \"{name}\" is not a valid type constraint.")).with_help(help))
        }
    }
}

/// The error for a constructor used without its one argument.
fn missing_argument(constructor: &str, span: Span) -> Diagnostic {
    let detail = match constructor {
        "tuple" => "The tuple type constructor requires one argument specifying the element types as a list.".to_string(),
        "object" => "The object type constructor requires one argument specifying the attribute types as a map.".to_string(),
        _ => format!("The {constructor} type constructor requires one argument specifying the element type."),
    };
    invalid_type(span, detail)
}

fn optional_misplaced(span: Span) -> Diagnostic {
    invalid_type(span, "Keyword \"optional\" is valid only as a modifier for object type attributes.")
}

fn parse_constructor(name: &str, args: &[Expr], span: Span) -> Result<Type, Diagnostic> {
    if let "string" | "number" | "bool" | "any" = name {
        return Err(invalid_type(span, format!("Primitive type keyword \"{name}\" does not expect arguments.")));
    }
    if name == "optional" {
        return Err(optional_misplaced(span));
    }
    if !CONSTRUCTORS.contains(&name) {
        let mut d = invalid_type(span, format!("Keyword \"{name}\" is not a valid type constructor."));
        d = match suggest(name, CONSTRUCTORS.iter().copied()) {
            Some(close) => d.with_help(format!("did you mean \"{close}\"?")),
            None => d.with_help(VALID_TYPES),
        };
        return Err(d);
    }
    let [arg] = args else {
        return Err(missing_argument(name, span));
    };
    match name {
        "list" => Ok(Type::List(Box::new(parse_type(arg)?))),
        "set" => Ok(Type::Set(Box::new(parse_type(arg)?))),
        "map" => Ok(Type::Map(Box::new(parse_type(arg)?))),
        "tuple" => parse_tuple(arg),
        _ => parse_object(arg),
    }
}

fn parse_tuple(arg: &Expr) -> Result<Type, Diagnostic> {
    let ExprKind::Tuple(elements) = &arg.kind else {
        return Err(invalid_type(arg.span, "The tuple type constructor requires a list of element types."));
    };
    elements.iter().map(parse_type).collect::<Result<_, _>>().map(Type::Tuple)
}

fn parse_object(arg: &Expr) -> Result<Type, Diagnostic> {
    let ExprKind::Object(items) = &arg.kind else {
        return Err(invalid_type(
            arg.span,
            "The object type constructor requires a map whose keys are attribute names and whose \
             values are the corresponding attribute types.",
        ));
    };
    let mut attrs = BTreeMap::new();
    for (key, value) in items {
        attrs.insert(attribute_name(key)?, parse_attribute(value)?);
    }
    Ok(Type::Object(attrs))
}

/// Attribute names must be bare identifiers, as in Terraform: `{ name = string }`.
fn attribute_name(key: &ObjectKey) -> Result<String, Diagnostic> {
    match key {
        ObjectKey::Ident(name, _) => Ok(name.clone()),
        ObjectKey::Expr(Expr { kind: ExprKind::Variable(name), .. }) => Ok(name.clone()),
        ObjectKey::Expr(e) => Err(invalid_type(e.span, "Object constructor map keys must be attribute names.")),
    }
}

/// An attribute's type, possibly wrapped in `optional(type)` or
/// `optional(type, default)`.
fn parse_attribute(expr: &Expr) -> Result<ObjectAttr, Diagnostic> {
    let ExprKind::Call(call) = &expr.kind else {
        return parse_type(expr).map(ObjectAttr::required);
    };
    if call.name != "optional" {
        return parse_type(expr).map(ObjectAttr::required);
    }
    let (ty_expr, default_expr) = match call.args.as_slice() {
        [ty] => (ty, None),
        [ty, default] => (ty, Some(default)),
        [] => return Err(invalid_type(expr.span, "Optional attribute modifier requires the attribute type as its argument.")),
        [_, _, extra, ..] => {
            return Err(invalid_type(extra.span, "Optional attribute modifier expects at most two arguments: the attribute type, and a default value."))
        }
    };
    let ty = parse_type(ty_expr)?;
    let default = match default_expr {
        Some(e) => parse_default(e, &ty)?,
        None => None,
    };
    Ok(ObjectAttr { ty, optional: true, default })
}

/// Evaluates a default value and converts it to the attribute's type now, so
/// a bad default is reported where it is written. A null default is no default.
fn parse_default(expr: &Expr, ty: &Type) -> Result<Option<Value>, Diagnostic> {
    let value = constant(expr)?;
    let value = convert(&value, ty)
        .map_err(|e| invalid_default(expr.span, format!("This default value is not compatible with the attribute's type constraint: {e}.")))?;
    Ok(Some(value).filter(|v| !v.is_null()))
}

fn invalid_default(span: Span, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error("Invalid default value for optional attribute", detail).at(span)
}

/// The value of a constant expression: literals, and lists, objects and
/// negations of them. Type expressions are read before any variable exists,
/// so nothing else can be evaluated here.
fn constant(expr: &Expr) -> Result<Value, Diagnostic> {
    let not_constant = || {
        invalid_default(
            expr.span,
            "defaults must be constant: literal values, and lists and objects of them, \
             without references or function calls.",
        )
    };
    match &expr.kind {
        ExprKind::Literal(v) => Ok(v.clone()),
        ExprKind::Parens(inner) => constant(inner),
        ExprKind::Template(parts) => parts
            .iter()
            .map(|p| match p {
                TemplatePart::Literal(s) => Ok(s.as_str()),
                _ => Err(not_constant()),
            })
            .collect::<Result<String, _>>()
            .map(Value::String),
        ExprKind::Tuple(items) => items.iter().map(constant).collect::<Result<_, _>>().map(Value::List),
        ExprKind::Object(items) => {
            let mut attrs = BTreeMap::new();
            for (key, value) in items {
                attrs.insert(constant_key(key)?, constant(value)?);
            }
            Ok(Value::Object(attrs))
        }
        ExprKind::Unary(UnaryOp::Neg, inner) => match constant(inner)? {
            Value::Number(n) => Ok(Value::Number(n.neg())),
            _ => Err(invalid_default(expr.span, "Only a number can be negated.")),
        },
        ExprKind::Unary(UnaryOp::Not, inner) => match constant(inner)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            _ => Err(invalid_default(expr.span, "Only a bool can be inverted with \"!\".")),
        },
        _ => Err(not_constant()),
    }
}

fn constant_key(key: &ObjectKey) -> Result<String, Diagnostic> {
    match key {
        ObjectKey::Ident(name, _) => Ok(name.clone()),
        ObjectKey::Expr(e) => constant(e)?.to_string_lossless().ok_or_else(|| invalid_default(e.span, "An object key must be a string.")),
    }
}

// ---------------------------------------------------------------------------
// Conversion
// ---------------------------------------------------------------------------

/// Converts a value to a type as cty does (`"5"` to 5, tuple to list, object
/// to map, optional attributes filled with their defaults or null). The error
/// says what is wrong and where inside the value, e.g.
/// `attribute "port": a number is required`.
pub fn convert(value: &Value, ty: &Type) -> Result<Value, String> {
    convert_typed(value, ty).map(|t| t.value)
}

/// A converted value with the type cty would give it. A collection of `any`
/// needs its elements' exact types to find the one type they all share.
struct Typed {
    value: Value,
    ty: Type,
}

fn convert_typed(value: &Value, ty: &Type) -> Result<Typed, String> {
    if value.is_null() {
        return Ok(Typed { value: Value::Null, ty: ty.clone() });
    }
    match ty {
        Type::Any => Ok(Typed { ty: Type::of(value), value: value.clone() }),
        Type::String | Type::Number | Type::Bool => Ok(Typed { value: convert_primitive(value, ty)?, ty: ty.clone() }),
        Type::List(element) => {
            let (items, ety) = convert_sequence(elements(value, ty)?, element, "list")?;
            Ok(Typed { value: Value::List(items), ty: Type::List(Box::new(ety)) })
        }
        Type::Set(element) => {
            let (items, ety) = convert_sequence(elements(value, ty)?, element, "set")?;
            Ok(Typed { value: Value::set(items), ty: Type::Set(Box::new(ety)) })
        }
        Type::Map(element) => {
            let (attrs, ety) = convert_map(attributes(value, ty)?, element)?;
            Ok(Typed { value: Value::Object(attrs), ty: Type::Map(Box::new(ety)) })
        }
        Type::Tuple(types) => convert_tuple(elements(value, ty)?, types),
        Type::Object(want) => convert_object(attributes(value, ty)?, want),
    }
}

fn required(ty: &Type) -> String {
    format!("{} required", ty.friendly_name())
}

fn elements<'a>(value: &'a Value, ty: &Type) -> Result<&'a [Value], String> {
    value.as_list().ok_or_else(|| required(ty))
}

fn attributes<'a>(value: &'a Value, ty: &Type) -> Result<&'a BTreeMap<String, Value>, String> {
    value.as_object().ok_or_else(|| required(ty))
}

fn convert_primitive(value: &Value, ty: &Type) -> Result<Value, String> {
    match (ty, value) {
        (Type::String, Value::String(_)) | (Type::Number, Value::Number(_)) | (Type::Bool, Value::Bool(_)) => Ok(value.clone()),
        (Type::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
        (Type::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::Number, Value::String(s)) => string_to_number(s).map(Value::Number).map_err(str::to_string),
        (Type::Bool, Value::String(s)) => parse_bool(s).map(Value::Bool),
        _ => Err(required(ty)),
    }
}

/// A string as a number, the way cty converts one: its decimal text
/// (optional sign, digits with an optional fraction and exponent; no spaces,
/// hex or infinities) read at cty's literal precision.
pub(crate) fn string_to_number(s: &str) -> Result<Number, &'static str> {
    match Number::parse(s) {
        Some(Ok(n)) => Ok(n),
        Some(Err(e)) => Err(e.message()),
        None => Err("a number is required"),
    }
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
            Err(format!("a bool is required; to convert from string, use lowercase \"{}\"", s.to_ascii_lowercase()))
        }
        _ => Err("a bool is required".to_string()),
    }
}

/// Converts the elements of a list or set. For `list(any)` they must first
/// agree on one type, as cty requires: `[1, "a"]` becomes `["1", "a"]`.
fn convert_sequence(items: &[Value], element: &Type, kind: &str) -> Result<(Vec<Value>, Type), String> {
    let target = if *element == Type::Any {
        let types: Vec<Type> = items.iter().map(Type::of).collect();
        unify(&types).ok_or_else(|| format!("all {kind} elements must have the same type"))?
    } else {
        element.clone()
    };
    let converted = items.iter().enumerate().map(|(i, v)| convert_typed(v, &target).map_err(|e| format!("element {i}: {e}"))).collect::<Result<Vec<_>, _>>()?;
    let labels = (0..converted.len()).map(|i| format!("element {i}"));
    unify_converted(converted, labels)
}

fn convert_map(attrs: &BTreeMap<String, Value>, element: &Type) -> Result<(BTreeMap<String, Value>, Type), String> {
    let target = if *element == Type::Any {
        let types: Vec<Type> = attrs.values().map(Type::of).collect();
        unify(&types).ok_or("all map elements must have the same type")?
    } else {
        element.clone()
    };
    let converted = attrs.iter().map(|(k, v)| convert_typed(v, &target).map_err(|e| format!("element {k:?}: {e}"))).collect::<Result<Vec<_>, _>>()?;
    let (values, ty) = unify_converted(converted, attrs.keys().map(|k| format!("element {k:?}")))?;
    Ok((attrs.keys().cloned().zip(values).collect(), ty))
}

/// Brings converted elements to one type. They differ only when the element
/// type has `any` inside, as in `list(list(any))`, where `[[1], ["a"]]`
/// converts to `[["1"], ["a"]]`.
fn unify_converted(converted: Vec<Typed>, labels: impl Iterator<Item = String>) -> Result<(Vec<Value>, Type), String> {
    let types: Vec<Type> = converted.iter().map(|t| t.ty.clone()).collect();
    let common = unify(&types).ok_or("collection elements cannot be unified")?;
    let values = converted
        .into_iter()
        .zip(labels)
        .map(|(t, label)| if t.ty == common { Ok(t.value) } else { convert(&t.value, &common).map_err(|e| format!("{label}: {e}")) })
        .collect::<Result<_, String>>()?;
    Ok((values, common))
}

fn convert_tuple(items: &[Value], types: &[Type]) -> Result<Typed, String> {
    if items.len() != types.len() {
        let plural = if types.len() == 1 { "" } else { "s" };
        return Err(format!("a tuple of {} element{plural} is required, but got {}", types.len(), items.len()));
    }
    let converted =
        items.iter().zip(types).enumerate().map(|(i, (v, t))| convert_typed(v, t).map_err(|e| format!("element {i}: {e}"))).collect::<Result<Vec<_>, _>>()?;
    let (values, types) = converted.into_iter().map(|t| (t.value, t.ty)).unzip();
    Ok(Typed { value: Value::List(values), ty: Type::Tuple(types) })
}

/// Converts an object to an object type: attributes the type does not name
/// are dropped, optional ones left out (or null) take their default.
fn convert_object(attrs: &BTreeMap<String, Value>, want: &BTreeMap<String, ObjectAttr>) -> Result<Typed, String> {
    check_required(attrs, want)?;
    let mut values = BTreeMap::new();
    let mut types = BTreeMap::new();
    for (name, attr) in want {
        let given = attrs.get(name).filter(|v| !v.is_null());
        let value = given.or(attr.default.as_ref()).unwrap_or(&Value::Null);
        let t = convert_typed(value, &attr.ty).map_err(|e| format!("attribute {name:?}: {e}"))?;
        values.insert(name.clone(), t.value);
        types.insert(name.clone(), ObjectAttr::required(t.ty));
    }
    Ok(Typed { value: Value::Object(values), ty: Type::Object(types) })
}

/// Reports every missing required attribute at once, as cty does, before any
/// problem inside the attributes.
fn check_required(attrs: &BTreeMap<String, Value>, want: &BTreeMap<String, ObjectAttr>) -> Result<(), String> {
    let missing: Vec<String> = want.iter().filter(|(name, attr)| !attr.optional && !attrs.contains_key(*name)).map(|(name, _)| format!("{name:?}")).collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(format!("attribute {one} is required")),
        [a, b] => Err(format!("attributes {a} and {b} are required")),
        [init @ .., last] => Err(format!("attributes {}, and {last} are required", init.join(", "))),
    }
}

// ---------------------------------------------------------------------------
// Unification: the one type several values can all convert to
// ---------------------------------------------------------------------------

/// The type all of `types` can convert to, chosen as cty's `unify` does:
/// structures of one kind unify element by element (objects with different
/// attributes, or tuples of different lengths, fall back to a map or list),
/// otherwise the most general candidate wins, string before number and bool.
/// Nulls (`any`) agree with everything.
pub(crate) fn unify(types: &[Type]) -> Option<Type> {
    let known: Vec<&Type> = types.iter().filter(|t| **t != Type::Any).collect();
    let Some(&first) = known.first() else {
        return Some(Type::Any);
    };
    if known.iter().all(|t| *t == first) {
        return Some(first.clone());
    }
    let count = |is: fn(&Type) -> bool| known.iter().filter(|t| is(t)).count();
    let objects = count(|t| matches!(t, Type::Object(_)));
    let tuples = count(|t| matches!(t, Type::Tuple(_)));
    let maps = count(|t| matches!(t, Type::Map(_)));
    let lists = count(|t| matches!(t, Type::List(_)));
    let sets = count(|t| matches!(t, Type::Set(_)));
    let n = known.len();
    if objects > 0 && tuples > 0 {
        return None;
    }
    if maps == n {
        return unify(&element_types(&known)).map(|t| Type::Map(Box::new(t)));
    }
    if lists == n {
        return unify(&element_types(&known)).map(|t| Type::List(Box::new(t)));
    }
    if sets == n {
        return unify(&element_types(&known)).map(|t| Type::Set(Box::new(t)));
    }
    if objects == n {
        return unify_objects(&known);
    }
    if tuples == n {
        return unify_tuples(&known);
    }
    // Objects are often maps in disguise, tuples lists.
    if maps > 0 && maps + objects == n {
        if let Some(t) = unify(&element_types(&known)) {
            return Some(Type::Map(Box::new(t)));
        }
    }
    if lists > 0 && lists + tuples == n {
        if let Some(t) = unify(&element_types(&known)) {
            return Some(Type::List(Box::new(t)));
        }
    }
    unify_by_preference(&known)
}

/// The element types of collections, and the attribute or element types of
/// objects and tuples, all in one list.
fn element_types(types: &[&Type]) -> Vec<Type> {
    let mut out = Vec::new();
    for t in types {
        match t {
            Type::List(e) | Type::Set(e) | Type::Map(e) => out.push((**e).clone()),
            Type::Tuple(es) => out.extend(es.iter().cloned()),
            Type::Object(attrs) => out.extend(attrs.values().map(|a| a.ty.clone())),
            _ => {}
        }
    }
    out
}

fn unify_objects(types: &[&Type]) -> Option<Type> {
    let objects: Vec<&BTreeMap<String, ObjectAttr>> = types
        .iter()
        .filter_map(|t| match t {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        })
        .collect();
    let same_names = objects.windows(2).all(|w| w[0].keys().eq(w[1].keys()));
    if !same_names {
        return unify(&element_types(types)).map(|t| Type::Map(Box::new(t)));
    }
    let mut attrs = BTreeMap::new();
    for name in objects[0].keys() {
        let across: Vec<Type> = objects.iter().map(|o| o[name].ty.clone()).collect();
        attrs.insert(name.clone(), ObjectAttr::required(unify(&across)?));
    }
    Some(Type::Object(attrs))
}

fn unify_tuples(types: &[&Type]) -> Option<Type> {
    let tuples: Vec<&Vec<Type>> = types
        .iter()
        .filter_map(|t| match t {
            Type::Tuple(es) => Some(es),
            _ => None,
        })
        .collect();
    let same_length = tuples.windows(2).all(|w| w[0].len() == w[1].len());
    if !same_length {
        return unify(&element_types(types)).map(|t| Type::List(Box::new(t)));
    }
    (0..tuples[0].len()).map(|i| unify(&tuples.iter().map(|t| t[i].clone()).collect::<Vec<_>>())).collect::<Option<Vec<_>>>().map(Type::Tuple)
}

/// Tries the candidates from the most general down and takes the first one
/// every type converts to: `[number, string]` gives string, while
/// `[number, bool]` has no common type.
fn unify_by_preference(types: &[&Type]) -> Option<Type> {
    fn generality(t: &Type) -> u8 {
        match t {
            Type::String => 0,
            Type::List(_) | Type::Map(_) => 1,
            Type::Set(_) => 2,
            Type::Tuple(_) | Type::Object(_) => 3,
            _ => 4,
        }
    }
    let mut candidates = types.to_vec();
    candidates.sort_by_key(|t| generality(t));
    candidates.into_iter().find(|want| types.iter().all(|t| convertible(t, want))).cloned()
}

/// Whether values of type `from` can convert to `to`, ignoring failures that
/// depend on the value itself (such as `"abc"` to number).
pub(crate) fn convertible(from: &Type, to: &Type) -> bool {
    match (from, to) {
        (_, Type::Any) | (Type::Any, _) => true,
        _ if from == to => true,
        (Type::String | Type::Number | Type::Bool, Type::String) => true,
        (Type::String, Type::Number | Type::Bool) => true,
        (Type::List(e) | Type::Set(e), Type::List(t) | Type::Set(t)) | (Type::Map(e), Type::Map(t)) => convertible(e, t),
        (Type::Tuple(es), Type::List(t) | Type::Set(t)) => elements_convertible(es.to_vec(), t),
        (Type::Object(attrs), Type::Map(t)) => elements_convertible(attrs.values().map(|a| a.ty.clone()).collect(), t),
        (Type::Map(e), Type::Object(want)) => want.values().all(|a| convertible(e, &a.ty)),
        (Type::Tuple(es), Type::Tuple(ts)) => es.len() == ts.len() && es.iter().zip(ts).all(|(e, t)| convertible(e, t)),
        (Type::Object(have), Type::Object(want)) => want.iter().all(|(name, attr)| match have.get(name) {
            Some(h) => convertible(&h.ty, &attr.ty),
            None => attr.optional,
        }),
        _ => false,
    }
}

fn elements_convertible(types: Vec<Type>, element: &Type) -> bool {
    if *element == Type::Any {
        unify(&types).is_some()
    } else {
        types.iter().all(|t| convertible(t, element))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Call;
    use crate::source::FileId;
    use serde_json::json;

    // --- building expressions and values ---

    fn at(kind: ExprKind, start: usize, end: usize) -> Expr {
        Expr { kind, span: Span::new(FileId(0), start, end) }
    }

    fn e(kind: ExprKind) -> Expr {
        Expr { kind, span: Span::default() }
    }

    fn kw(name: &str) -> Expr {
        e(ExprKind::Variable(name.to_string()))
    }

    fn lit(v: Value) -> Expr {
        e(ExprKind::Literal(v))
    }

    fn call(name: &str, args: Vec<Expr>) -> Expr {
        e(ExprKind::Call(Box::new(Call { name: name.to_string(), name_span: Span::default(), args, expand_final: false })))
    }

    fn tuple(items: Vec<Expr>) -> Expr {
        e(ExprKind::Tuple(items))
    }

    fn object(items: Vec<(&str, Expr)>) -> Expr {
        e(ExprKind::Object(items.into_iter().map(|(k, v)| (ObjectKey::Ident(k.to_string(), Span::default()), v)).collect()))
    }

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    fn obj(attrs: Vec<(&str, ObjectAttr)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, a)| (k.to_string(), a)).collect())
    }

    fn req(t: Type) -> ObjectAttr {
        ObjectAttr::required(t)
    }

    fn opt(t: Type, default: Option<Value>) -> ObjectAttr {
        ObjectAttr { ty: t, optional: true, default }
    }

    fn parse_err(expr: &Expr) -> Diagnostic {
        parse(expr).expect_err("expected a parse error")
    }

    // --- parse ---

    #[test]
    fn parses_primitive_keywords() {
        assert_eq!(parse(&kw("string")), Ok(Type::String));
        assert_eq!(parse(&kw("number")), Ok(Type::Number));
        assert_eq!(parse(&kw("bool")), Ok(Type::Bool));
        assert_eq!(parse(&kw("any")), Ok(Type::Any));
        assert_eq!(parse(&e(ExprKind::Parens(Box::new(kw("bool"))))), Ok(Type::Bool));
    }

    #[test]
    fn parses_collection_constructors() {
        assert_eq!(parse(&call("list", vec![kw("string")])), Ok(list(Type::String)));
        assert_eq!(parse(&call("set", vec![kw("number")])), Ok(set(Type::Number)));
        assert_eq!(parse(&call("map", vec![call("list", vec![kw("bool")])])), Ok(map(list(Type::Bool))));
        assert_eq!(parse(&call("tuple", vec![tuple(vec![kw("string"), kw("number")])])), Ok(Type::Tuple(vec![Type::String, Type::Number])));
        assert_eq!(parse(&call("tuple", vec![tuple(vec![])])), Ok(Type::Tuple(vec![])));
    }

    #[test]
    fn parses_objects_with_optional_attributes() {
        let expr = call(
            "object",
            vec![object(vec![
                ("name", kw("string")),
                ("port", call("optional", vec![kw("number"), lit(Value::from(22.0))])),
                ("tags", call("optional", vec![call("list", vec![kw("string")])])),
            ])],
        );
        assert_eq!(
            parse(&expr),
            Ok(obj(vec![("name", req(Type::String)), ("port", opt(Type::Number, Some(Value::from(22.0)))), ("tags", opt(list(Type::String), None)),]))
        );
    }

    #[test]
    fn evaluates_and_converts_constant_defaults() {
        let neg = e(ExprKind::Unary(UnaryOp::Neg, Box::new(lit(Value::from(1.0)))));
        let not = e(ExprKind::Unary(UnaryOp::Not, Box::new(lit(Value::Bool(true)))));
        let text = e(ExprKind::Template(vec![TemplatePart::Literal("a".into()), TemplatePart::Literal("b".into())]));
        let quoted_key = (ObjectKey::Expr(lit(Value::from("k"))), lit(Value::from(1.0)));
        let nested = e(ExprKind::Object(vec![quoted_key]));
        let expr = call(
            "object",
            vec![object(vec![
                ("a", call("optional", vec![kw("number"), neg])),
                ("b", call("optional", vec![kw("bool"), not])),
                ("c", call("optional", vec![kw("string"), text])),
                ("d", call("optional", vec![call("list", vec![kw("string")]), tuple(vec![lit(Value::from(1.0))])])),
                ("e", call("optional", vec![call("map", vec![kw("number")]), nested])),
                ("f", call("optional", vec![kw("string"), lit(Value::Null)])),
            ])],
        );
        assert_eq!(
            parse(&expr),
            Ok(obj(vec![
                ("a", opt(Type::Number, Some(Value::from(-1.0)))),
                ("b", opt(Type::Bool, Some(Value::Bool(false)))),
                ("c", opt(Type::String, Some(Value::from("ab")))),
                ("d", opt(list(Type::String), Some(v(json!(["1"]))))),
                ("e", opt(map(Type::Number), Some(v(json!({"k": 1}))))),
                ("f", opt(Type::String, None)),
            ]))
        );
    }

    #[test]
    fn rejects_non_constant_or_mistyped_defaults() {
        let reference = at(ExprKind::Variable("var".into()), 30, 33);
        let d = parse_err(&call("object", vec![object(vec![("a", call("optional", vec![kw("string"), reference]))])]));
        assert_eq!(d.summary, "Invalid default value for optional attribute");
        assert!(d.detail.contains("defaults must be constant"), "{}", d.detail);
        assert_eq!(d.span, Some(Span::new(FileId(0), 30, 33)));

        let bad = at(ExprKind::Literal(Value::from("abc")), 40, 45);
        let d = parse_err(&call("object", vec![object(vec![("a", call("optional", vec![kw("number"), bad]))])]));
        assert_eq!(d.detail, "This default value is not compatible with the attribute's type constraint: a number is required.");
        assert_eq!(d.span, Some(Span::new(FileId(0), 40, 45)));
    }

    #[test]
    fn parses_legacy_forms() {
        assert_eq!(parse(&lit(Value::from("string"))), Ok(Type::String));
        assert_eq!(parse(&lit(Value::from("list"))), Ok(list(Type::Any)));
        assert_eq!(parse(&lit(Value::from("map"))), Ok(map(Type::Any)));
        assert_eq!(parse(&kw("list")), Ok(list(Type::Any)));
        assert_eq!(parse(&kw("map")), Ok(map(Type::Any)));
        let d = parse_err(&at(ExprKind::Literal(Value::from("number")), 7, 15));
        assert_eq!(d.summary, "Invalid legacy variable type hint");
        assert_eq!(d.span, Some(Span::new(FileId(0), 7, 15)));
    }

    #[test]
    fn reports_unknown_keywords_with_a_suggestion() {
        let d = parse_err(&call("list", vec![at(ExprKind::Variable("strin".into()), 5, 10)]));
        assert_eq!(d.summary, "Invalid type specification");
        assert_eq!(d.detail, "The keyword \"strin\" is not a valid type constraint.");
        assert_eq!(d.span, Some(Span::new(FileId(0), 5, 10)));
        assert!(d.help.as_deref().unwrap().starts_with("did you mean \"string\"?"), "{:?}", d.help);

        let d = parse_err(&kw("zzzzzzz"));
        assert!(d.help.as_deref().unwrap().starts_with("valid types are"), "{:?}", d.help);
    }

    #[test]
    fn reports_malformed_constructors() {
        let d = parse_err(&call("list", vec![]));
        assert_eq!(d.detail, "The list type constructor requires one argument specifying the element type.");
        let d = parse_err(&call("set", vec![kw("string"), kw("number")]));
        assert_eq!(d.detail, "The set type constructor requires one argument specifying the element type.");
        let d = parse_err(&call("list", vec![kw("set")]));
        assert_eq!(d.detail, "The set type constructor requires one argument specifying the element type.");
        let d = parse_err(&kw("object"));
        assert_eq!(d.detail, "The object type constructor requires one argument specifying the attribute types as a map.");
        let d = parse_err(&call("tuple", vec![kw("string")]));
        assert_eq!(d.detail, "The tuple type constructor requires a list of element types.");
        let d = parse_err(&call("object", vec![tuple(vec![])]));
        assert!(d.detail.starts_with("The object type constructor requires a map"), "{}", d.detail);
        let d = parse_err(&call("string", vec![]));
        assert_eq!(d.detail, "Primitive type keyword \"string\" does not expect arguments.");
        let d = parse_err(&call("lst", vec![kw("string")]));
        assert_eq!(d.detail, "Keyword \"lst\" is not a valid type constructor.");
        assert_eq!(d.help.as_deref(), Some("did you mean \"list\"?"));
        let d = parse_err(&lit(Value::from(1.0)));
        assert_eq!(d.summary, "Invalid type specification");
        let d = parse_err(&call("list", vec![lit(Value::from("string"))]));
        assert!(d.detail.starts_with("A type specification is either"), "{}", d.detail);
    }

    #[test]
    fn reports_misplaced_optional_and_bad_keys() {
        let d = parse_err(&call("list", vec![call("optional", vec![kw("string")])]));
        assert_eq!(d.detail, "Keyword \"optional\" is valid only as a modifier for object type attributes.");
        let d = parse_err(&call("object", vec![object(vec![("a", call("optional", vec![]))])]));
        assert_eq!(d.detail, "Optional attribute modifier requires the attribute type as its argument.");
        let three = call("optional", vec![kw("string"), lit(Value::from("a")), lit(Value::from("b"))]);
        let d = parse_err(&call("object", vec![object(vec![("a", three)])]));
        assert!(d.detail.starts_with("Optional attribute modifier expects at most two arguments"), "{}", d.detail);
        let quoted = (ObjectKey::Expr(at(ExprKind::Literal(Value::from("a")), 9, 12)), kw("string"));
        let d = parse_err(&call("object", vec![e(ExprKind::Object(vec![quoted]))]));
        assert_eq!(d.detail, "Object constructor map keys must be attribute names.");
        assert_eq!(d.span, Some(Span::new(FileId(0), 9, 12)));
    }

    // --- display and names ---

    #[test]
    fn displays_hcl_syntax() {
        assert_eq!(Type::Any.to_string(), "any");
        assert_eq!(list(Type::String).to_string(), "list(string)");
        assert_eq!(set(map(Type::Bool)).to_string(), "set(map(bool))");
        assert_eq!(Type::Tuple(vec![Type::String, Type::Number]).to_string(), "tuple([string,number])");
        assert_eq!(obj(vec![("name", req(Type::String))]).to_string(), "object({name=string})");
        let t = obj(vec![("a", opt(Type::Number, Some(Value::from(1.0)))), ("b", opt(Type::String, None)), ("c d", req(Type::Bool))]);
        assert_eq!(t.to_string(), "object({a=optional(number,1),b=optional(string),\"c d\"=bool})");
    }

    #[test]
    fn names_types_in_words() {
        assert_eq!(list(Type::Any).friendly_name(), "list of any single type");
        assert_eq!(map(list(Type::String)).friendly_name(), "map of list of string");
        assert_eq!(set(Type::Number).friendly_name(), "set of number");
        assert_eq!(Type::Any.friendly_name(), "any type");
        assert_eq!(Type::of(&v(json!([1]))).friendly_name(), "tuple");
        assert_eq!(Type::of(&v(json!({"a": 1}))).friendly_name(), "object");
    }

    // --- convert: primitives ---

    #[test]
    fn converts_between_primitives() {
        assert_eq!(convert(&v(json!("5")), &Type::Number), Ok(Value::from(5.0)));
        assert_eq!(convert(&v(json!("1.5")), &Type::Number), Ok(Value::from(1.5)));
        assert_eq!(convert(&v(json!("-2e3")), &Type::Number), Ok(Value::from(-2000.0)));
        assert_eq!(convert(&v(json!(5)), &Type::String), Ok(Value::from("5")));
        assert_eq!(convert(&v(json!(1.5)), &Type::String), Ok(Value::from("1.5")));
        assert_eq!(convert(&v(json!(true)), &Type::String), Ok(Value::from("true")));
        assert_eq!(convert(&v(json!("true")), &Type::Bool), Ok(Value::Bool(true)));
        assert_eq!(convert(&v(json!("0")), &Type::Bool), Ok(Value::Bool(false)));
        assert_eq!(convert(&v(json!(false)), &Type::Bool), Ok(Value::Bool(false)));
    }

    #[test]
    fn reports_primitive_conversion_failures() {
        assert_eq!(convert(&v(json!("abc")), &Type::Number), Err("a number is required".into()));
        assert_eq!(convert(&v(json!(" 5")), &Type::Number), Err("a number is required".into()));
        assert_eq!(convert(&v(json!("inf")), &Type::Number), Err("a number is required".into()));
        assert_eq!(convert(&v(json!("yes")), &Type::Bool), Err("a bool is required".into()));
        assert_eq!(convert(&v(json!("True")), &Type::Bool), Err("a bool is required; to convert from string, use lowercase \"true\"".into()));
        assert_eq!(convert(&v(json!(true)), &Type::Number), Err("number required".into()));
        assert_eq!(convert(&v(json!(1)), &Type::Bool), Err("bool required".into()));
        assert_eq!(convert(&v(json!([1])), &Type::String), Err("string required".into()));
        assert_eq!(convert(&v(json!({})), &Type::Number), Err("number required".into()));
    }

    #[test]
    fn null_and_any_pass_through() {
        for ty in [Type::String, list(Type::Number), obj(vec![("a", req(Type::String))]), Type::Any] {
            assert_eq!(convert(&Value::Null, &ty), Ok(Value::Null), "{ty}");
        }
        let mixed = v(json!([1, "a", {"b": [true]}]));
        assert_eq!(convert(&mixed, &Type::Any), Ok(mixed.clone()));
    }

    // --- convert: collections ---

    #[test]
    fn converts_tuples_to_lists_and_sets() {
        assert_eq!(convert(&v(json!(["1", 2])), &list(Type::Number)), Ok(v(json!([1, 2]))));
        assert_eq!(convert(&v(json!([1, "a"])), &list(Type::Any)), Ok(v(json!(["1", "a"]))));
        assert_eq!(convert(&v(json!([1, null])), &list(Type::Any)), Ok(v(json!([1, null]))));
        assert_eq!(convert(&v(json!([])), &list(Type::Any)), Ok(v(json!([]))));
        assert_eq!(convert(&v(json!(["b", "a", "b"])), &set(Type::String)), Ok(v(json!(["a", "b"]))));
        assert_eq!(convert(&v(json!([3, "1", 3])), &set(Type::Any)), Ok(v(json!(["1", "3"]))));
    }

    #[test]
    fn reports_collection_element_errors_with_their_path() {
        assert_eq!(convert(&v(json!([1, 2, "x"])), &list(Type::Number)), Err("element 2: a number is required".into()));
        assert_eq!(convert(&v(json!([1, {}])), &list(Type::Any)), Err("all list elements must have the same type".into()));
        assert_eq!(convert(&v(json!([true, 1])), &set(Type::Any)), Err("all set elements must have the same type".into()));
        assert_eq!(convert(&v(json!({"a": 1, "b": []})), &map(Type::Any)), Err("all map elements must have the same type".into()));
        assert_eq!(convert(&v(json!({"k": "x"})), &map(Type::Number)), Err("element \"k\": a number is required".into()));
        assert_eq!(convert(&v(json!("a")), &list(Type::String)), Err("list of string required".into()));
        assert_eq!(convert(&v(json!([])), &map(Type::Any)), Err("map of any single type required".into()));
    }

    #[test]
    fn converts_objects_to_maps() {
        assert_eq!(convert(&v(json!({"a": 1, "b": "2"})), &map(Type::String)), Ok(v(json!({"a": "1", "b": "2"}))));
        assert_eq!(convert(&v(json!({"a": 1, "b": "x"})), &map(Type::Any)), Ok(v(json!({"a": "1", "b": "x"}))));
        assert_eq!(convert(&v(json!({})), &map(Type::Number)), Ok(v(json!({}))));
    }

    #[test]
    fn unifies_nested_structures() {
        // Objects with the same attributes unify attribute by attribute.
        assert_eq!(convert(&v(json!([{"a": 1}, {"a": "x"}])), &list(Type::Any)), Ok(v(json!([{"a": "1"}, {"a": "x"}]))));
        // Objects with different attributes unify as maps.
        assert_eq!(convert(&v(json!([{"a": 1}, {"b": "x"}])), &list(Type::Any)), Ok(v(json!([{"a": "1"}, {"b": "x"}]))));
        // Tuples of different lengths unify as lists.
        assert_eq!(convert(&v(json!([[1, 2], ["a"]])), &list(Type::Any)), Ok(v(json!([["1", "2"], ["a"]]))));
        // `any` nested deeper is unified after conversion.
        assert_eq!(convert(&v(json!([[1], ["a", "b"]])), &list(list(Type::Any))), Ok(v(json!([["1"], ["a", "b"]]))));
        assert_eq!(convert(&v(json!({"x": [1], "y": ["a"]})), &map(list(Type::Any))), Ok(v(json!({"x": ["1"], "y": ["a"]}))));
    }

    #[test]
    fn reports_elements_that_cannot_share_a_type_after_conversion() {
        assert_eq!(convert(&v(json!([[1], [true]])), &list(list(Type::Any))), Err("collection elements cannot be unified".into()));
        assert_eq!(convert(&v(json!({"x": [1], "y": [true]})), &map(list(Type::Any))), Err("collection elements cannot be unified".into()));
    }

    #[test]
    fn converts_lists_to_tuples_checking_length() {
        let t = Type::Tuple(vec![Type::String, Type::Number]);
        assert_eq!(convert(&v(json!([1, "2"])), &t), Ok(v(json!(["1", 2]))));
        assert_eq!(convert(&v(json!([1])), &t), Err("a tuple of 2 elements is required, but got 1".into()));
        assert_eq!(convert(&v(json!(["a", "b"])), &t), Err("element 1: a number is required".into()));
        assert_eq!(convert(&v(json!({})), &t), Err("tuple required".into()));
    }

    // --- convert: objects ---

    #[test]
    fn converts_objects_dropping_extra_attributes() {
        let t = obj(vec![("name", req(Type::String)), ("port", req(Type::Number))]);
        assert_eq!(convert(&v(json!({"name": "web", "port": "22", "extra": true})), &t), Ok(v(json!({"name": "web", "port": 22}))));
        assert_eq!(convert(&v(json!({"name": "web", "port": null})), &t), Ok(v(json!({"name": "web", "port": null}))));
        assert_eq!(convert(&v(json!([])), &t), Err("object required".into()));
    }

    #[test]
    fn reports_missing_and_invalid_attributes() {
        let t = obj(vec![("name", req(Type::String)), ("port", req(Type::Number)), ("zone", req(Type::String))]);
        assert_eq!(convert(&v(json!({"name": "a", "zone": "z"})), &t), Err("attribute \"port\" is required".into()));
        assert_eq!(convert(&v(json!({"zone": "z"})), &t), Err("attributes \"name\" and \"port\" are required".into()));
        assert_eq!(convert(&v(json!({})), &t), Err("attributes \"name\", \"port\", and \"zone\" are required".into()));
        assert_eq!(convert(&v(json!({"name": "a", "port": "x", "zone": "z"})), &t), Err("attribute \"port\": a number is required".into()));
        let nested = list(obj(vec![("port", req(Type::Number))]));
        assert_eq!(convert(&v(json!([{"port": 1}, {"port": [1]}])), &nested), Err("element 1: attribute \"port\": number required".into()));
    }

    #[test]
    fn fills_optional_attributes_with_defaults_or_null() {
        let t = obj(vec![("name", req(Type::String)), ("port", opt(Type::Number, Some(Value::from(22.0)))), ("user", opt(Type::String, None))]);
        assert_eq!(convert(&v(json!({"name": "a"})), &t), Ok(v(json!({"name": "a", "port": 22, "user": null}))));
        assert_eq!(convert(&v(json!({"name": "a", "port": null, "user": "u"})), &t), Ok(v(json!({"name": "a", "port": 22, "user": "u"}))));
        assert_eq!(convert(&v(json!({"name": "a", "port": "8080"})), &t), Ok(v(json!({"name": "a", "port": 8080, "user": null}))));
    }

    #[test]
    fn applies_nested_defaults_inside_defaults_and_collections() {
        let inner = obj(vec![("size", opt(Type::Number, Some(Value::from(10.0)))), ("kind", req(Type::String))]);
        let t = obj(vec![("disk", opt(inner.clone(), Some(v(json!({"kind": "ssd"}))))), ("extra", opt(list(inner), None))]);
        assert_eq!(
            convert(&v(json!({"extra": [{"kind": "hdd"}, {"kind": "nvme", "size": 5}]})), &t),
            Ok(v(json!({
                "disk": {"kind": "ssd", "size": 10},
                "extra": [{"kind": "hdd", "size": 10}, {"kind": "nvme", "size": 5}]
            })))
        );
    }

    // --- unify and convertible ---

    #[test]
    fn unifies_as_cty_does() {
        assert_eq!(unify(&[Type::Number, Type::String]), Some(Type::String));
        assert_eq!(unify(&[Type::Number, Type::Bool]), None);
        assert_eq!(unify(&[Type::Any, Type::Number]), Some(Type::Number));
        assert_eq!(unify(&[]), Some(Type::Any));
        assert_eq!(unify(&[Type::Tuple(vec![]), Type::Object(BTreeMap::new())]), None);
        assert_eq!(unify(&[list(Type::Number), list(Type::String)]), Some(list(Type::String)));
        assert_eq!(unify(&[list(Type::Number), Type::Tuple(vec![Type::String])]), Some(list(Type::String)));
        assert_eq!(unify(&[map(Type::Number), obj(vec![("a", req(Type::Bool))])]), None);
        assert_eq!(unify(&[Type::String, Type::Tuple(vec![])]), None);
    }

    #[test]
    fn decides_convertibility_by_type() {
        assert!(convertible(&Type::String, &Type::Number));
        assert!(!convertible(&Type::Bool, &Type::Number));
        assert!(convertible(&Type::of(&v(json!([1, "a"]))), &list(Type::Any)));
        assert!(!convertible(&Type::of(&v(json!([1, {}]))), &list(Type::Any)));
        assert!(!convertible(&Type::of(&v(json!({}))), &obj(vec![("a", req(Type::String))])));
        assert!(convertible(&Type::of(&v(json!({}))), &obj(vec![("a", opt(Type::String, None))])));
        assert!(convertible(&map(Type::String), &obj(vec![("a", req(Type::Number))])));
        assert!(!convertible(&Type::Tuple(vec![Type::Number]), &Type::Tuple(vec![])));
    }
}
