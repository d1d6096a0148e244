//! Evaluates expressions and bodies of the syntax tree to values.
//!
//! Errors are diagnostics pointing at the innermost expression at fault. The
//! few functions that need unevaluated arguments or the scope (`can`, `try`,
//! `convert`, `env`, `templatefile`) are implemented here; the rest live in
//! [`crate::functions`].

use crate::ast::*;
use crate::diag::{suggest, Diagnostic, Diagnostics};
use crate::functions::{self, FuncContext};
use crate::number::{Number, NumberResult};
use crate::source::{SourceMap, Span};
use crate::types;
use crate::value::{Value, MAX_VALUE_SIZE};
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Everything an expression can see: the root names (`var`, `local`,
/// `source`, `path`, …) and the run's fixed facts.
#[derive(Clone)]
pub struct Evaluator {
    pub sources: SourceMap,
    pub root: BTreeMap<String, Value>,
    /// Directory relative file paths resolve against (Packer: the working directory).
    pub cwd: PathBuf,
    /// The run's single instant, returned by every `timestamp()`.
    pub now: SystemTime,
    /// `env()` is only allowed in variable defaults, as in Packer.
    pub allow_env: bool,
    /// Set while rendering a `templatefile` template, where `templatefile`
    /// itself is refused, as in Terraform: a template that renders itself
    /// would otherwise recurse until the stack overflows.
    pub in_templatefile: bool,
}

/// Iteration variables of `for` expressions, template `for` directives and
/// `dynamic` blocks, innermost last.
#[derive(Clone, Copy)]
pub struct Scope<'s> {
    name: &'s str,
    value: &'s Value,
    parent: Option<&'s Scope<'s>>,
}

impl<'s> Scope<'s> {
    fn lookup(scope: Option<&Scope<'s>>, name: &str) -> Option<Value> {
        let mut cur = scope;
        while let Some(s) = cur {
            if s.name == name {
                return Some(s.value.clone());
            }
            cur = s.parent;
        }
        None
    }
}

/// A body after evaluation: what a plugin's configuration is decoded from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvalBody {
    pub attributes: IndexMap<String, EvalAttr>,
    pub blocks: Vec<EvalBlock>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EvalAttr {
    pub value: Value,
    pub name_span: Span,
    /// The span of the expression, where type errors about the value point.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EvalBlock {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: EvalBody,
    /// The block header.
    pub span: Span,
}

type EvalResult = Result<Value, Diagnostic>;

impl Evaluator {
    pub fn new(sources: SourceMap, cwd: PathBuf, now: SystemTime) -> Evaluator {
        Evaluator { sources, root: BTreeMap::new(), cwd, now, allow_env: false, in_templatefile: false }
    }

    pub fn eval(&self, expr: &Expr) -> EvalResult {
        self.eval_in(expr, None)
    }

    /// Evaluates every attribute of a body (collecting all errors), and its
    /// blocks, expanding `dynamic` blocks.
    pub fn eval_body(&self, body: &Body) -> Result<EvalBody, Diagnostics> {
        self.eval_body_in(body, None)
    }

    fn eval_body_in(&self, body: &Body, scope: Option<&Scope>) -> Result<EvalBody, Diagnostics> {
        let mut diags = Diagnostics::new();
        let mut out = EvalBody { span: body.span, ..EvalBody::default() };
        for attr in &body.attributes {
            match self.eval_in(&attr.expr, scope) {
                // As in HCL's decoder: an argument whose value is null is
                // not set (`cd_files = var.cd_files` with no files given).
                Ok(Value::Null) => {}
                Ok(value) => {
                    out.attributes.insert(attr.name.clone(), EvalAttr { value, name_span: attr.name_span, span: attr.expr.span });
                }
                Err(d) => diags.push(d),
            }
        }
        for block in &body.blocks {
            let result = if block.kind == "dynamic" {
                self.expand_dynamic(block, scope)
            } else {
                self.eval_body_in(&block.body, scope).map(|body| {
                    vec![EvalBlock {
                        kind: block.kind.clone(),
                        labels: block.labels.iter().map(|l| l.value.clone()).collect(),
                        body,
                        span: block.header_span(),
                    }]
                })
            };
            match result {
                Ok(blocks) => out.blocks.extend(blocks),
                Err(d) => diags.extend(d),
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(out)
        }
    }

    /// `dynamic "name" { for_each = …, iterator = it, labels = […], content { … } }`
    fn expand_dynamic(&self, block: &Block, scope: Option<&Scope>) -> Result<Vec<EvalBlock>, Diagnostics> {
        let kind = match block.labels.as_slice() {
            [label] => label.value.clone(),
            _ => {
                return Err(Diagnostic::error("Invalid dynamic block", "A dynamic block takes exactly one label: the type of the blocks it generates.")
                    .at(block.header_span())
                    .with_help("write it as dynamic \"NAME\" { for_each = ..., content { ... } }")
                    .into())
            }
        };
        let body = &block.body;
        for attr in &body.attributes {
            if !["for_each", "iterator", "labels"].contains(&attr.name.as_str()) {
                let mut d = Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected in a dynamic block.", attr.name))
                    .at(attr.name_span);
                if let Some(s) = suggest(&attr.name, ["for_each", "iterator", "labels"]) {
                    d = d.with_help(format!("did you mean \"{s}\"?"));
                }
                return Err(d.into());
            }
        }
        let for_each = body
            .attribute("for_each")
            .ok_or_else(|| Diagnostic::error("Missing required argument", "A dynamic block needs a \"for_each\" argument.").at(block.header_span()))?;
        let iterator = match body.attribute("iterator") {
            Some(a) => match &a.expr.kind {
                ExprKind::Variable(name) => name.clone(),
                _ => {
                    return Err(Diagnostic::error("Invalid dynamic iterator name", "The iterator must be a bare name, such as iterator = item.")
                        .at(a.expr.span)
                        .into())
                }
            },
            None => kind.clone(),
        };
        let contents: Vec<&Block> = body.blocks_of("content").collect();
        let content = match contents.as_slice() {
            [c] => *c,
            _ => {
                return Err(Diagnostic::error("Invalid dynamic block", "A dynamic block needs exactly one nested \"content\" block.")
                    .at(block.header_span())
                    .into())
            }
        };
        let collection = self.eval_in(&for_each.expr, scope).map_err(Diagnostics::from)?;
        let items = iteration_items(&collection).map_err(|m| {
            Diagnostics::from(
                Diagnostic::error("Invalid dynamic for_each value", format!("Cannot use a {} value in for_each: {m}", collection.type_name()))
                    .at(for_each.expr.span),
            )
        })?;
        let mut out = Vec::new();
        for (key, value) in items {
            let it = Value::Object(BTreeMap::from([("key".to_string(), key), ("value".to_string(), value)]));
            let inner = Scope { name: &iterator, value: &it, parent: scope };
            let labels = match body.attribute("labels") {
                Some(a) => {
                    let v = self.eval_in(&a.expr, Some(&inner)).map_err(Diagnostics::from)?;
                    let list = v
                        .as_list()
                        .ok_or_else(|| Diagnostics::from(Diagnostic::error("Invalid dynamic labels", "labels must be a list of strings.").at(a.expr.span)))?;
                    list.iter()
                        .map(|l| {
                            l.to_string_lossless().ok_or_else(|| {
                                Diagnostics::from(Diagnostic::error("Invalid dynamic labels", "labels must be a list of strings.").at(a.expr.span))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?
                }
                None => Vec::new(),
            };
            let body = self.eval_body_in(&content.body, Some(&inner))?;
            out.push(EvalBlock { kind: kind.clone(), labels, body, span: block.header_span() });
        }
        Ok(out)
    }

    fn eval_in(&self, expr: &Expr, scope: Option<&Scope>) -> EvalResult {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Literal(v) => Ok(v.clone()),
            ExprKind::Parens(inner) => self.eval_in(inner, scope),
            ExprKind::Tuple(items) => {
                let mut size = 0;
                let mut list = Vec::with_capacity(items.len());
                for e in items {
                    let v = self.eval_in(e, scope)?;
                    add_size(&mut size, &v, span)?;
                    list.push(v);
                }
                Ok(Value::List(list))
            }
            ExprKind::Object(items) => {
                let mut map = BTreeMap::new();
                let mut size = 0;
                for (key, value) in items {
                    let k = match key {
                        ObjectKey::Ident(name, _) => name.clone(),
                        ObjectKey::Expr(e) => {
                            let kv = self.eval_in(e, scope)?;
                            kv.to_string_lossless().ok_or_else(|| {
                                Diagnostic::error("Incorrect key type", format!("Can't use a {} value as an object key: a string is required.", kv.type_name()))
                                    .at(e.span)
                            })?
                        }
                    };
                    let v = self.eval_in(value, scope)?;
                    size += k.len();
                    add_size(&mut size, &v, span)?;
                    map.insert(k, v);
                }
                Ok(Value::Object(map))
            }
            ExprKind::Template(parts) => self.eval_template(parts, scope, span),
            ExprKind::Variable(name) => self.lookup(name, scope, span),
            ExprKind::Traversal(base, ops) => {
                let v = self.eval_in(base, scope)?;
                self.traverse(v, ops, scope, base)
            }
            ExprKind::Call(call) => self.call(call, scope, span),
            ExprKind::Conditional(cond, yes, no) => {
                let c = self.eval_in(cond, scope)?;
                match to_bool(&c) {
                    Some(true) => self.eval_in(yes, scope),
                    Some(false) => self.eval_in(no, scope),
                    None => {
                        Err(Diagnostic::error("Incorrect condition type", format!("The condition expression must be a bool, but this is a {}.", c.type_name()))
                            .at(cond.span))
                    }
                }
            }
            ExprKind::Unary(op, operand) => {
                let v = self.eval_in(operand, scope)?;
                match op {
                    UnaryOp::Neg => Ok(Value::Number(self.number_operand(&v, operand.span)?.neg())),
                    UnaryOp::Not => Ok(Value::Bool(!self.bool_operand(&v, operand.span)?)),
                }
            }
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, scope),
            ExprKind::For(f) => self.eval_for(f, scope, span),
        }
    }

    fn lookup(&self, name: &str, scope: Option<&Scope>, span: Span) -> EvalResult {
        if let Some(v) = Scope::lookup(scope, name) {
            return Ok(v);
        }
        if let Some(v) = self.root.get(name) {
            return Ok(v.clone());
        }
        let mut d = Diagnostic::error("Unknown variable", format!("There is no variable named \"{name}\".")).at(span);
        if let Some(s) = suggest(name, self.root.keys().map(String::as_str)) {
            d = d.with_help(format!("did you mean \"{s}\"?"));
        }
        Err(d)
    }

    fn traverse(&self, mut value: Value, ops: &[Traverser], scope: Option<&Scope>, base: &Expr) -> EvalResult {
        // The path so far, for messages: `var.image`, `local.x[0]`.
        let mut path = match &base.kind {
            ExprKind::Variable(n) => n.clone(),
            _ => String::new(),
        };
        let root_name = path.clone();
        for (i, op) in ops.iter().enumerate() {
            match op {
                Traverser::Attr(name, span) => {
                    value = self.get_attr(&value, name, *span, &path, &root_name, i == 0)?;
                    path = format!("{path}.{name}");
                }
                Traverser::LegacyIndex(idx, span) => {
                    value = self.index(&value, &Value::from(*idx), *span, &path)?;
                    path = format!("{path}.{idx}");
                }
                Traverser::Index(e) => {
                    let key = self.eval_in(e, scope)?;
                    value = self.index(&value, &key, e.span, &path)?;
                    path = format!("{path}[{key}]");
                }
                Traverser::AttrSplat(_) | Traverser::FullSplat(_) => {
                    // A legacy `.*` splat applies only the attribute accesses
                    // that follow it; `[*]` applies everything that follows.
                    let full = matches!(op, Traverser::FullSplat(_));
                    let rest = &ops[i + 1..];
                    let applies = rest.iter().take_while(|o| full || matches!(o, Traverser::Attr(..))).count();
                    let items = match value {
                        Value::Null => Vec::new(),
                        Value::List(items) => items,
                        other => vec![other],
                    };
                    let mut mapped = Vec::new();
                    for item in items {
                        mapped.push(self.traverse(item, &rest[..applies], scope, &Expr { kind: ExprKind::Literal(Value::Null), span: base.span })?);
                    }
                    return self.traverse(Value::List(mapped), &rest[applies..], scope, base);
                }
            }
        }
        Ok(value)
    }

    fn get_attr(&self, value: &Value, name: &str, span: Span, path: &str, root: &str, first: bool) -> EvalResult {
        match value {
            Value::Object(map) => map.get(name).cloned().ok_or_else(|| {
                let (summary, detail) = match (root, first) {
                    ("var", true) => {
                        ("Reference to undeclared input variable".to_string(), format!("An input variable with the name \"{name}\" has not been declared."))
                    }
                    ("local", true) => {
                        ("Reference to undeclared local value".to_string(), format!("A local value with the name \"{name}\" has not been declared."))
                    }
                    _ => ("Unsupported attribute".to_string(), format!("This object{} does not have an attribute named \"{name}\".", describe(path))),
                };
                let mut d = Diagnostic::error(summary, detail).at(span);
                if let Some(s) = suggest(name, map.keys().map(String::as_str)) {
                    d = d.with_help(format!("did you mean \"{s}\"?"));
                } else if root == "var" && first {
                    d = d.with_help(format!("declare it with a variable \"{name}\" {{ }} block"));
                }
                d
            }),
            Value::Null => Err(Diagnostic::error(
                "Attempt to get attribute from null value",
                format!("The value{} is null, so it has no attribute \"{name}\".", describe(path)),
            )
            .at(span)),
            other => Err(Diagnostic::error(
                "Unsupported attribute",
                format!("Can't access attribute \"{name}\" on a {} value{}.", other.type_name(), describe(path)),
            )
            .at(span)),
        }
    }

    fn index(&self, value: &Value, key: &Value, span: Span, path: &str) -> EvalResult {
        match value {
            Value::List(items) => {
                let n = to_number(key).filter(Number::is_integer).ok_or_else(|| {
                    Diagnostic::error("Invalid index", format!("A list{} must be indexed by a whole number, not {key}.", describe(path))).at(span)
                })?;
                let Some(n) = n.to_u64().and_then(|i| usize::try_from(i).ok()).filter(|i| *i < items.len()) else {
                    return Err(Diagnostic::error(
                        "Invalid index",
                        format!(
                            "The index {n} is out of range: the list{} has {} element{}.",
                            describe(path),
                            items.len(),
                            if items.len() == 1 { "" } else { "s" }
                        ),
                    )
                    .at(span));
                };
                Ok(items[n].clone())
            }
            Value::Object(map) => {
                let k = key.to_string_lossless().ok_or_else(|| {
                    Diagnostic::error("Invalid index", format!("A map{} must be indexed by a string, not a {}.", describe(path), key.type_name())).at(span)
                })?;
                map.get(&k).cloned().ok_or_else(|| {
                    let mut d = Diagnostic::error("Invalid index", format!("The map{} has no element with the key \"{k}\".", describe(path))).at(span);
                    if let Some(s) = suggest(&k, map.keys().map(String::as_str)) {
                        d = d.with_help(format!("did you mean \"{s}\"?"));
                    }
                    d
                })
            }
            Value::Null => Err(Diagnostic::error("Attempt to index null value", format!("The value{} is null.", describe(path))).at(span)),
            other => Err(Diagnostic::error("Invalid index", format!("A {} value{} cannot be indexed.", other.type_name(), describe(path))).at(span)),
        }
    }

    fn number_operand(&self, v: &Value, span: Span) -> Result<Number, Diagnostic> {
        to_number(v)
            .ok_or_else(|| Diagnostic::error("Invalid operand", format!("Unsuitable value: a number is required, but this is {}.", describe_value(v))).at(span))
    }

    fn bool_operand(&self, v: &Value, span: Span) -> Result<bool, Diagnostic> {
        to_bool(v)
            .ok_or_else(|| Diagnostic::error("Invalid operand", format!("Unsuitable value: a bool is required, but this is {}.", describe_value(v))).at(span))
    }

    fn binary(&self, op: BinaryOp, lhs: &Expr, rhs: &Expr, scope: Option<&Scope>) -> EvalResult {
        let l = self.eval_in(lhs, scope)?;
        // `&&` and `||` stop early, as current HCL does, so that
        // `x != null && x.y` works.
        match op {
            BinaryOp::And => return Ok(Value::Bool(self.bool_operand(&l, lhs.span)? && self.bool_operand(&self.eval_in(rhs, scope)?, rhs.span)?)),
            BinaryOp::Or => return Ok(Value::Bool(self.bool_operand(&l, lhs.span)? || self.bool_operand(&self.eval_in(rhs, scope)?, rhs.span)?)),
            _ => {}
        }
        let r = self.eval_in(rhs, scope)?;
        match op {
            BinaryOp::Eq => return Ok(Value::Bool(values_equal(&l, &r))),
            BinaryOp::NotEq => return Ok(Value::Bool(!values_equal(&l, &r))),
            _ => {}
        }
        let a = self.number_operand(&l, lhs.span)?;
        let b = self.number_operand(&r, rhs.span)?;
        let span = lhs.span.to(rhs.span);
        let arithmetic = |result: NumberResult| {
            result.map(Value::Number).map_err(|e| Diagnostic::error("Operation failed", format!("Error during operation: {e}.")).at(span))
        };
        match op {
            BinaryOp::Add => arithmetic(a.add(&b)),
            BinaryOp::Sub => arithmetic(a.sub(&b)),
            BinaryOp::Mul => arithmetic(a.mul(&b)),
            // As in HCL, a non-zero number divided by zero is infinite and
            // `x % 0` is `x`; only `0 / 0` fails.
            BinaryOp::Div => arithmetic(a.div(&b)),
            BinaryOp::Mod => arithmetic(a.rem(&b)),
            BinaryOp::Lt => Ok(Value::Bool(a.cmp_value(&b).is_lt())),
            BinaryOp::LtEq => Ok(Value::Bool(a.cmp_value(&b).is_le())),
            BinaryOp::Gt => Ok(Value::Bool(a.cmp_value(&b).is_gt())),
            BinaryOp::GtEq => Ok(Value::Bool(a.cmp_value(&b).is_ge())),
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::And | BinaryOp::Or => unreachable!("handled above"),
        }
    }

    fn eval_for(&self, f: &ForExpr, scope: Option<&Scope>, span: Span) -> EvalResult {
        let collection = self.eval_in(&f.collection, scope)?;
        let items = iteration_items(&collection).map_err(|m| {
            Diagnostic::error(
                "Iteration over non-iterable value",
                format!("A {} value cannot be used as the collection in a for expression: {m}", collection.type_name()),
            )
            .at(f.collection.span)
        })?;
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut size = 0;
        for (k, v) in items {
            let value_scope = Scope { name: &f.value_var, value: &v, parent: scope };
            let key_scope;
            let inner = match &f.key_var {
                Some(name) => {
                    key_scope = Scope { name, value: &k, parent: Some(&value_scope) };
                    &key_scope
                }
                None => &value_scope,
            };
            if let Some(cond) = &f.cond {
                let c = self.eval_in(cond, Some(inner))?;
                match to_bool(&c) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => {
                        return Err(Diagnostic::error(
                            "Invalid for expression condition",
                            format!("The condition must be a bool, but this is a {}.", c.type_name()),
                        )
                        .at(cond.span))
                    }
                }
            }
            let value = self.eval_in(&f.value_expr, Some(inner))?;
            add_size(&mut size, &value, span)?;
            match &f.key_expr {
                None => list.push(value),
                Some(key_expr) => {
                    let kv = self.eval_in(key_expr, Some(inner))?;
                    let key = kv.to_string_lossless().ok_or_else(|| {
                        Diagnostic::error("Invalid object key", format!("An object key must be a string, not a {}.", kv.type_name())).at(key_expr.span)
                    })?;
                    if f.grouping {
                        groups.entry(key).or_default().push(value);
                    } else if object.insert(key.clone(), value).is_some() {
                        return Err(Diagnostic::error(
                            "Duplicate object key",
                            format!("Two elements produce the key \"{key}\". Add an ellipsis (...) after the value expression to group them into lists."),
                        )
                        .at(span));
                    }
                }
            }
        }
        Ok(match &f.key_expr {
            None => Value::List(list),
            Some(_) if f.grouping => Value::Object(groups.into_iter().map(|(k, v)| (k, Value::List(v))).collect()),
            Some(_) => Value::Object(object),
        })
    }

    fn eval_template(&self, parts: &[TemplatePart], scope: Option<&Scope>, span: Span) -> EvalResult {
        // `"${expr}"` alone yields the value itself, not its string form, as HCL does.
        if let [TemplatePart::Interpolation(e)] = parts {
            return self.eval_in(e, scope);
        }
        let mut out = String::new();
        self.render_parts(parts, scope, &mut out, span)?;
        Ok(Value::String(out))
    }

    fn render_parts(&self, parts: &[TemplatePart], scope: Option<&Scope>, out: &mut String, span: Span) -> Result<(), Diagnostic> {
        for part in parts {
            if out.len() > MAX_VALUE_SIZE {
                return Err(too_large(span));
            }
            match part {
                TemplatePart::Literal(s) => out.push_str(s),
                TemplatePart::Interpolation(e) => {
                    let v = self.eval_in(e, scope)?;
                    out.push_str(&template_string(&v).map_err(|m| Diagnostic::error("Invalid template interpolation value", m).at(e.span))?);
                }
                TemplatePart::If { cond, then, otherwise } => {
                    let c = self.eval_in(cond, scope)?;
                    match to_bool(&c) {
                        Some(true) => self.render_parts(then, scope, out, span)?,
                        Some(false) => self.render_parts(otherwise, scope, out, span)?,
                        None => {
                            return Err(Diagnostic::error(
                                "Invalid template if condition",
                                format!("The condition must be a bool, but this is a {}.", c.type_name()),
                            )
                            .at(cond.span))
                        }
                    }
                }
                TemplatePart::For { key_var, value_var, collection, body } => {
                    let coll = self.eval_in(collection, scope)?;
                    let items = iteration_items(&coll).map_err(|m| Diagnostic::error("Invalid template for collection", m).at(collection.span))?;
                    for (k, v) in items {
                        let value_scope = Scope { name: value_var, value: &v, parent: scope };
                        match key_var {
                            Some(name) => {
                                let key_scope = Scope { name, value: &k, parent: Some(&value_scope) };
                                self.render_parts(body, Some(&key_scope), out, span)?;
                            }
                            None => self.render_parts(body, Some(&value_scope), out, span)?,
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn call(&self, call: &Call, scope: Option<&Scope>, span: Span) -> EvalResult {
        match call.name.as_str() {
            // `try` returns the first argument that evaluates without error.
            "try" => {
                let mut last = None;
                for arg in &call.args {
                    match self.eval_in(arg, scope) {
                        Ok(v) => return Ok(v),
                        Err(e) => last = Some(e),
                    }
                }
                return Err(match last {
                    Some(e) => Diagnostic::error(
                        "Error in function call",
                        format!("Call to function \"try\" failed: no expression succeeded; the last one said: {}: {}", e.summary, e.detail),
                    )
                    .at(span),
                    None => Diagnostic::error("Error in function call", "Call to function \"try\" needs at least one argument.").at(span),
                });
            }
            "can" => {
                if call.args.len() != 1 {
                    return Err(Diagnostic::error("Error in function call", "Call to function \"can\" takes exactly one argument.").at(span));
                }
                return Ok(Value::Bool(self.eval_in(&call.args[0], scope).is_ok()));
            }
            "convert" => {
                if call.args.len() != 2 {
                    return Err(Diagnostic::error("Error in function call", "Call to function \"convert\" takes a value and a type.").at(span));
                }
                let v = self.eval_in(&call.args[0], scope)?;
                let ty = types::parse(&call.args[1])?;
                return types::convert(&v, &ty)
                    .map_err(|m| Diagnostic::error("Invalid function argument", format!("Invalid value for \"value\" parameter: {m}.")).at(call.args[0].span));
            }
            "env" => {
                if !self.allow_env {
                    return Err(Diagnostic::error(
                        "Call to function \"env\" not allowed here",
                        "env() can only be used in the default value of a variable, as in Packer.",
                    )
                    .at(span)
                    .with_help("declare a variable with default = env(\"NAME\") and use var.NAME here"));
                }
                let args = self.eval_args(call, scope)?;
                let name = match args.as_slice() {
                    [Value::String(s)] => s.clone(),
                    _ => return Err(Diagnostic::error("Invalid function argument", "env() takes one string: the variable's name.").at(span)),
                };
                return Ok(Value::String(std::env::var(name).unwrap_or_default()));
            }
            _ => {}
        }
        if !functions::is_known(&call.name) {
            let mut known = functions::names();
            known.extend(["can", "try", "convert", "env"]);
            let mut d = Diagnostic::error("Call to unknown function", format!("There is no function named \"{}\".", call.name)).at(call.name_span);
            if let Some(s) = suggest(&call.name, known.iter().copied()) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            }
            return Err(d);
        }
        let args = self.eval_args(call, scope)?;
        let render = |path: &Path, text: &str, vars: &BTreeMap<String, Value>| self.render_template_file(path, text, vars);
        let ctx = FuncContext { cwd: &self.cwd, now: self.now, render_template: &render };
        functions::call(&call.name, &args, &ctx).map_err(|e| {
            let at = e.arg.and_then(|i| call.args.get(i.min(call.args.len().saturating_sub(1)))).map_or(span, |a| a.span);
            Diagnostic::error("Error in function call", format!("Call to function \"{}\" failed: {}.", call.name, e.message.trim_end_matches('.'))).at(at)
        })
    }

    fn eval_args(&self, call: &Call, scope: Option<&Scope>) -> Result<Vec<Value>, Diagnostic> {
        let mut args = Vec::with_capacity(call.args.len());
        let mut size = 0;
        for (i, arg) in call.args.iter().enumerate() {
            let v = self.eval_in(arg, scope)?;
            add_size(&mut size, &v, arg.span)?;
            if call.expand_final && i == call.args.len() - 1 {
                match v {
                    Value::List(items) => args.extend(items),
                    other => {
                        return Err(Diagnostic::error(
                            "Invalid expanding argument value",
                            format!("The expanding argument (...) must be a list, not a {}.", other.type_name()),
                        )
                        .at(arg.span))
                    }
                }
            } else {
                args.push(v);
            }
        }
        Ok(args)
    }

    /// `templatefile`: the file's text is a template that sees only `vars`
    /// and the functions, as in Terraform.
    fn render_template_file(&self, path: &Path, text: &str, vars: &BTreeMap<String, Value>) -> Result<Value, String> {
        if self.in_templatefile {
            return Err("cannot recursively call templatefile from inside templatefile call".to_string());
        }
        let file = self.sources.add(path, text);
        let expr = crate::parse::parse_template(&self.sources, file).map_err(|d| self.inline_diag(&d))?;
        let inner = Evaluator { root: vars.clone(), allow_env: false, in_templatefile: true, ..self.clone() };
        let v = inner.eval(&expr).map_err(|d| self.inline_diag(&d))?;
        template_string(&v).map(Value::String)
    }

    /// A diagnostic squeezed into one line, for errors that must travel as text.
    fn inline_diag(&self, d: &Diagnostic) -> String {
        match d.span {
            Some(s) => format!("{}: {}: {}", self.sources.location(s), d.summary, d.detail),
            None => format!("{}: {}", d.summary, d.detail),
        }
    }
}

/// Adds the size of `v` to `total`, failing once it passes [`MAX_VALUE_SIZE`].
fn add_size(total: &mut usize, v: &Value, span: Span) -> Result<(), Diagnostic> {
    *total = total.saturating_add(v.approx_size());
    if *total > MAX_VALUE_SIZE {
        return Err(too_large(span));
    }
    Ok(())
}

fn too_large(span: Span) -> Diagnostic {
    Diagnostic::error(
        "Value too large",
        format!("This expression builds a value of more than {} MiB, which bake refuses to keep in memory.", MAX_VALUE_SIZE >> 20),
    )
    .at(span)
}

fn describe(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" {path}")
    }
}

fn describe_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => format!("the string \"{s}\""),
        other => format!("a {}", other.type_name()),
    }
}

/// A value's string form inside a template: strings, numbers and bools only.
pub fn template_string(v: &Value) -> Result<String, String> {
    match v {
        Value::Null => Err("The expression result is null. Cannot include a null value in a string template.".to_string()),
        Value::List(_) | Value::Object(_) => {
            Err(format!("Cannot include the given value in a string template: string required, but this is a {}.", v.type_name()))
        }
        other => Ok(other.to_string_lossless().unwrap_or_default()),
    }
}

/// HCL converts strings to numbers where a number is needed.
pub fn to_number(v: &Value) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => Number::parse(s.trim()).and_then(Result::ok),
        _ => None,
    }
}

pub fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// `==`: no conversion between kinds (`1 == "1"` is false), as in HCL.
fn values_equal(a: &Value, b: &Value) -> bool {
    a == b
}

/// The (key, value) pairs a collection iterates over: index and element for
/// lists, key and value (in key order) for maps.
fn iteration_items(v: &Value) -> Result<Vec<(Value, Value)>, String> {
    match v {
        Value::List(items) => Ok(items.iter().enumerate().map(|(i, v)| (Value::from(i), v.clone())).collect()),
        Value::Object(map) => Ok(map.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect()),
        Value::Null => Err("the collection is null".to_string()),
        other => Err(format!("a {} is not a collection", other.type_name())),
    }
}

/// A reference to the root scope, such as `data.debootstrap.base.path`:
/// the root name (`data`), the static attribute path that follows it
/// (`["debootstrap", "base", "path"]`, stopping at the first dynamic index),
/// and its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub root: String,
    pub path: Vec<String>,
    pub span: Span,
}

/// Every reference an expression makes to the root scope. The loader orders
/// locals and data sources by these.
pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut out = Vec::new();
    collect_refs(expr, &mut out);
    out
}

fn collect_refs(expr: &Expr, out: &mut Vec<Reference>) {
    match &expr.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Variable(name) => out.push(Reference { root: name.clone(), path: Vec::new(), span: expr.span }),
        ExprKind::Traversal(base, ops) => {
            if let ExprKind::Variable(name) = &base.kind {
                let mut path = Vec::new();
                let mut span = base.span;
                for op in ops {
                    match op {
                        Traverser::Attr(a, s) => {
                            path.push(a.clone());
                            span = span.to(*s);
                        }
                        Traverser::Index(Expr { kind: ExprKind::Literal(Value::String(a)), span: s }) => {
                            path.push(a.clone());
                            span = span.to(*s);
                        }
                        _ => break,
                    }
                }
                out.push(Reference { root: name.clone(), path, span });
            } else {
                collect_refs(base, out);
            }
            for op in ops {
                if let Traverser::Index(e) = op {
                    collect_refs(e, out);
                }
            }
        }
        ExprKind::Template(parts) => collect_template_refs(parts, out),
        ExprKind::Tuple(items) => items.iter().for_each(|e| collect_refs(e, out)),
        ExprKind::Object(items) => {
            for (k, v) in items {
                if let ObjectKey::Expr(e) = k {
                    collect_refs(e, out);
                }
                collect_refs(v, out);
            }
        }
        ExprKind::Call(c) => c.args.iter().for_each(|e| collect_refs(e, out)),
        ExprKind::Conditional(a, b, c) => [a, b, c].iter().for_each(|e| collect_refs(e, out)),
        ExprKind::Unary(_, e) | ExprKind::Parens(e) => collect_refs(e, out),
        ExprKind::Binary(_, a, b) => {
            collect_refs(a, out);
            collect_refs(b, out);
        }
        ExprKind::For(f) => {
            collect_refs(&f.collection, out);
            let mut inner = Vec::new();
            for e in [Some(&f.value_expr), f.key_expr.as_ref(), f.cond.as_ref()].into_iter().flatten() {
                collect_refs(e, &mut inner);
            }
            // The iteration variables are not references to the root.
            out.extend(inner.into_iter().filter(|r| Some(&r.root) != f.key_var.as_ref() && r.root != f.value_var));
        }
    }
}

fn collect_template_refs(parts: &[TemplatePart], out: &mut Vec<Reference>) {
    for part in parts {
        match part {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interpolation(e) => collect_refs(e, out),
            TemplatePart::If { cond, then, otherwise } => {
                collect_refs(cond, out);
                collect_template_refs(then, out);
                collect_template_refs(otherwise, out);
            }
            TemplatePart::For { key_var, value_var, collection, body } => {
                collect_refs(collection, out);
                let mut inner = Vec::new();
                collect_template_refs(body, &mut inner);
                out.extend(inner.into_iter().filter(|r| Some(&r.root) != key_var.as_ref() && r.root != *value_var));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_expression, parse_file};

    fn evaluator(sources: &SourceMap) -> Evaluator {
        let mut ev = Evaluator::new(sources.clone(), std::env::temp_dir(), SystemTime::UNIX_EPOCH);
        let var: BTreeMap<String, Value> = [
            ("name".to_string(), Value::from("web")),
            ("ports".to_string(), Value::List(vec![Value::from(80.0), Value::from(443.0)])),
            (
                "users".to_string(),
                Value::List(vec![
                    Value::Object([("name".to_string(), Value::from("ann"))].into()),
                    Value::Object([("name".to_string(), Value::from("bob"))].into()),
                ]),
            ),
        ]
        .into();
        ev.root.insert("var".to_string(), Value::Object(var));
        ev
    }

    fn eval(src: &str) -> Result<Value, String> {
        let sources = SourceMap::new();
        let file = sources.add("expr.hcl", src);
        let expr = parse_expression(&sources, file).map_err(|d| d.render(&sources))?;
        evaluator(&sources).eval(&expr).map_err(|d| d.render(&sources))
    }

    fn s(v: &str) -> Value {
        Value::from(v)
    }

    #[test]
    fn arithmetic_logic_and_conditionals() {
        assert_eq!(eval("1 + 2 * 3").unwrap(), Value::from(7.0));
        assert_eq!(eval("\"5\" + 1").unwrap(), Value::from(6.0));
        assert_eq!(eval("7 % 3 == 1 && !false").unwrap(), Value::Bool(true));
        assert_eq!(eval("1 == \"1\"").unwrap(), Value::Bool(false));
        assert_eq!(eval("var.name == \"web\" ? \"yes\" : \"no\"").unwrap(), s("yes"));
    }

    /// The text HCL gives the value of `src`: what `"${src}"` interpolates.
    fn text(src: &str) -> String {
        match eval(src) {
            Ok(Value::Number(n)) => n.to_string(),
            Ok(Value::String(s)) => s,
            other => panic!("{src} gave {other:?}"),
        }
    }

    // Expected strings as Packer prints them: computed with Go's math/big the
    // way cty computes (see crate::number), e.g. the 155 digits of 1/3.
    #[test]
    fn numbers_are_arbitrary_precision_as_in_packer() {
        assert_eq!(text("0.1 + 0.2"), "0.3");
        assert_eq!(eval("0.1 + 0.2 == 0.3").unwrap(), Value::Bool(true));
        assert_eq!(eval("0.1 + 0.2 != 0.3").unwrap(), Value::Bool(false));
        assert_eq!(eval("0.1 + 0.2 > 0.3").unwrap(), Value::Bool(false));
        assert_eq!(text("1 / 3"), format!("0.{}5", "3".repeat(154)));
        assert_eq!(text("2 / 3"), format!("0.{}7", "6".repeat(153)));
        assert_eq!(text("10 / 4"), "2.5");
        assert_eq!(text("9007199254740993"), "9007199254740993");
        assert_eq!(text("9007199254740993 + 1"), "9007199254740994");
        assert_eq!(text("18446744073709551616 * 2"), "36893488147419103232");
        assert_eq!(text("1e30"), "1000000000000000000000000000000");
        assert_eq!(text("-0"), "-0");
        assert_eq!(text("-0 == 0 ? \"same\" : \"different\""), "same");
        assert_eq!(text("5 % 3"), "2");
        assert_eq!(text("-5 % 3"), "-2");
        assert_eq!(text("5.5 % 2"), "1.5");
        assert_eq!(text("\"${0.1 + 0.2}\""), "0.3");
        assert_eq!(text("\"${1e30}\""), "1000000000000000000000000000000");
        assert_eq!(text("\"0.1\" + 0.2"), "0.3");
        assert_eq!(text("[0, 1, 2][2.0]"), "2");
        assert!(eval("[0, 1, 2][0.5]").unwrap_err().contains("must be indexed by a whole number"));
        assert!(eval("[0, 1, 2][1e30]").unwrap_err().contains("The index 1000000000000000000000000000000 is out of range"));
    }

    /// As in HCL: dividing a non-zero number by zero gives an infinity and
    /// `x % 0` is `x`; `0 / 0` has no value.
    #[test]
    fn division_by_zero_as_in_hcl() {
        assert_eq!(text("1 / 0"), "+Inf");
        assert_eq!(text("-1 / 0"), "-Inf");
        assert_eq!(text("5 % 0"), "5");
        let e = eval("0 / 0").unwrap_err();
        assert!(e.contains("Operation failed") && e.contains("can't divide zero by zero or infinity by infinity"), "{e}");
        assert!(eval("1 / 0 - 1 / 0").unwrap_err().contains("can't subtract infinity from itself"));
    }

    #[test]
    fn huge_numbers_fail_instead_of_hanging() {
        let e = eval("tonumber(\"1e999999999\")").unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = eval("\"1e999999999\" + 1").unwrap_err();
        assert!(e.contains("a number is required"), "{e}");
        let e = eval("parseint(\"1${join(\"\", [for i in range(1024) : \"0000000000\"])}\", 10)").unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = eval("tonumber(\"1e5000\") * tonumber(\"1e5000\")").unwrap_err();
        assert!(e.contains("Operation failed") && e.contains("out of range"), "{e}");
        assert_eq!(text("pow(10, 1e9)"), "+Inf");
    }

    #[test]
    fn templates_interpolate_and_strip() {
        assert_eq!(eval("\"${var.name}-${var.ports[1]}\"").unwrap(), s("web-443"));
        // A lone interpolation keeps the value's type.
        assert_eq!(eval("\"${var.ports}\"").unwrap(), eval("var.ports").unwrap());
        assert_eq!(eval("\"a %{ if var.name == \"web\" }yes%{ else }no%{ endif } b\"").unwrap(), s("a yes b"));
        assert_eq!(eval("\"%{ for p in var.ports ~} ${p} %{~ endfor ~}  !\"").unwrap(), s("80443!"));
        assert_eq!(eval("<<-EOT\n    hello\n      ${var.name}\n    EOT\n").unwrap(), s("hello\n  web\n"));
        assert_eq!(eval("\"$${literal}\"").unwrap(), s("${literal}"));
        assert!(eval("\"${var.ports} x\"").unwrap_err().contains("string required"));
    }

    #[test]
    fn for_expressions_and_splats() {
        assert_eq!(eval("[for p in var.ports : p + 1 if p > 100]").unwrap(), Value::List(vec![Value::from(444.0)]));
        assert_eq!(
            eval("{ for i, u in var.users : u.name => i }").unwrap(),
            Value::Object([("ann".into(), Value::from(0.0)), ("bob".into(), Value::from(1.0))].into())
        );
        assert_eq!(
            eval("{ for u in var.users : \"all\" => u.name... }").unwrap(),
            Value::Object([("all".into(), Value::List(vec![s("ann"), s("bob")]))].into())
        );
        assert_eq!(eval("var.users[*].name").unwrap(), Value::List(vec![s("ann"), s("bob")]));
        assert_eq!(eval("var.users.*.name").unwrap(), Value::List(vec![s("ann"), s("bob")]));
        assert!(eval("{ for u in var.users : \"k\" => u }").unwrap_err().contains("Duplicate object key"));
    }

    #[test]
    fn errors_point_at_the_culprit() {
        let err = eval("var.nmae").unwrap_err();
        assert!(err.contains("Reference to undeclared input variable"), "{err}");
        assert!(err.contains("expr.hcl:1:5"), "{err}");
        assert!(err.contains("did you mean \"name\""), "{err}");
        let err = eval("[1, nosuch]").unwrap_err();
        assert!(err.contains("expr.hcl:1:5") && err.contains("Unknown variable"), "{err}");
        let err = eval("tyr(1)").unwrap_err();
        assert!(err.contains("Call to unknown function") && err.contains("did you mean \"try\""), "{err}");
        let err = eval("var.ports[5]").unwrap_err();
        assert!(err.contains("out of range"), "{err}");
    }

    #[test]
    fn try_can_and_env_rules() {
        assert_eq!(eval("try(var.nope, \"fallback\")").unwrap(), s("fallback"));
        assert_eq!(eval("can(var.users[9])").unwrap(), Value::Bool(false));
        assert_eq!(eval("can(var.users[1])").unwrap(), Value::Bool(true));
        assert!(eval("env(\"HOME\")").unwrap_err().contains("not allowed here"));
    }

    #[test]
    fn dynamic_blocks_expand() {
        let sources = SourceMap::new();
        let file = sources.add(
            "t.pkr.hcl",
            r#"
            outer {
              dynamic "disk" {
                for_each = var.ports
                iterator = d
                labels   = ["disk-${d.key}"]
                content {
                  size = d.value
                }
              }
              plain = 1
            }
            "#,
        );
        let body = parse_file(&sources, file).unwrap();
        let out = evaluator(&sources).eval_body(&body).unwrap();
        let outer = &out.blocks[0].body;
        assert_eq!(outer.attributes["plain"].value, Value::from(1.0));
        let disks: Vec<_> = outer.blocks.iter().map(|b| (b.kind.as_str(), b.labels.clone(), b.body.attributes["size"].value.clone())).collect();
        assert_eq!(disks, vec![("disk", vec!["disk-0".to_string()], Value::from(80.0)), ("disk", vec!["disk-1".to_string()], Value::from(443.0)),]);
    }

    #[test]
    fn huge_values_are_refused_not_built() {
        for src in [
            "[for a in range(1000) : [for b in range(1000) : range(1000)]]",
            "{ for a in range(1000) : a => [for b in range(1000) : range(1000)] }",
            "\"%{ for a in range(1000) }%{ for b in range(1000) }${format(\"%1000s\", \"\")}%{ endfor }%{ endfor }\"",
            "[for a in range(1000) : format(\"%70000s\", \"\")]",
        ] {
            let err = eval(src).map(|v| v.type_name()).unwrap_err();
            assert!(err.contains("Value too large"), "{src}: {err}");
        }
        let err = eval("setproduct(range(1000), range(1000), range(1000))").map(|v| v.type_name()).unwrap_err();
        assert!(err.contains("the result would take more than 64 MiB"), "{err}");
    }

    #[test]
    fn templatefile_refuses_to_recurse() {
        let dir = std::env::temp_dir().join(format!("bake-eval-selftpl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("self.tpl"), "${templatefile(\"self.tpl\", {})}").unwrap();
        let sources = SourceMap::new();
        let file = sources.add("expr.hcl", "templatefile(\"self.tpl\", {})");
        let expr = parse_expression(&sources, file).unwrap();
        let ev = Evaluator::new(sources.clone(), dir.clone(), SystemTime::UNIX_EPOCH);
        let err = ev.eval(&expr).unwrap_err().render(&sources);
        assert!(err.contains("cannot recursively call templatefile"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn references_skip_iteration_variables() {
        let sources = SourceMap::new();
        let file = sources.add("e.hcl", "[for x in local.a : x + var.b + local.c[\"k\"]]");
        let expr = parse_expression(&sources, file).unwrap();
        let refs: Vec<_> = references(&expr).into_iter().map(|r| format!("{}.{}", r.root, r.path.join("."))).collect();
        assert_eq!(refs, ["local.a", "var.b", "local.c.k"]);
    }
}
