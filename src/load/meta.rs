//! Meta-arguments are expressions, as in Packer: a build's `name`,
//! `description` and `sources`, and a provisioner's or post-processor's
//! `name`, `only`, `except`, `max_retries`, `pause_before`, `timeout` and
//! `keep_input_artifact` are evaluated once variables, locals and data
//! sources are known (`sources = var.enabled`, `except = var.is_windows ? []
//! : ["qemu.vm"]`), and before any build starts. What only a running build
//! knows (`build.*`, `source.*`) cannot decide them, and saying so is the
//! error. A `null` value means the argument is not set.

use super::template::{parse_source_ref, BuildDecl, PostProcessorDecl, ProvisionerDecl, SourceRef};
use super::Template;
use bake_lang::ast::{Attribute, Body, Expr, ExprKind};
use bake_lang::diag::{Diagnostic, Diagnostics};
use bake_lang::eval::{references, Evaluator};
use bake_lang::{Span, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// Fills the resolved fields of every build, provisioner and post-processor.
/// Expressions that use a value `unknown` holds (`var.x` of an unset
/// variable, for `inspect`) are left unresolved without an error.
pub fn resolve(template: &mut Template, ev: &Evaluator, unknown: &BTreeSet<String>, diags: &mut Diagnostics) {
    let meta = Meta { ev, unknown };
    for build in &mut template.builds {
        meta.build(build, diags);
    }
}

struct Meta<'a> {
    ev: &'a Evaluator,
    unknown: &'a BTreeSet<String>,
}

impl Meta<'_> {
    fn build(&self, build: &mut BuildDecl, diags: &mut Diagnostics) {
        let get = |name: &str| build.meta.iter().find(|a| a.name == name).cloned();
        build.name = get("name").and_then(|a| self.string(&a, diags));
        build.description = get("description").and_then(|a| self.string(&a, diags));
        for r in &mut build.sources {
            if let Some(e) = r.rename_expr.clone() {
                r.rename = self.value(&e, "name", diags).and_then(|v| as_string(&v, "name", e.span, diags));
            }
        }
        if let Some(attr) = get("sources") {
            let refs: Vec<SourceRef> = self.strings(&attr, diags).into_iter().filter_map(|(s, span)| parse_source_ref(&s, span, diags)).collect();
            // `sources = [...]` come first, as Packer lists them.
            build.sources.splice(0..0, refs);
        }
        for block in build.dynamic_sources.clone() {
            build.sources.extend(self.dynamic_sources(&block, diags));
        }
        check_duplicate_sources(build, diags);
        for p in build.provisioners.iter_mut().chain(build.error_cleanup.as_mut()) {
            self.provisioner(p, diags);
        }
        for chain in &mut build.post_processor_chains {
            for p in chain {
                self.post_processor(p, diags);
            }
        }
    }

    fn provisioner(&self, p: &mut ProvisionerDecl, diags: &mut Diagnostics) {
        for attr in p.meta.clone() {
            match attr.name.as_str() {
                "name" => p.name = self.string(&attr, diags),
                "only" => p.only = self.strings(&attr, diags).into_iter().map(|(s, _)| s).collect(),
                "except" => p.except = self.strings(&attr, diags).into_iter().map(|(s, _)| s).collect(),
                "pause_before" => p.pause_before = self.duration(&attr, diags),
                "timeout" => p.timeout = self.duration(&attr, diags),
                "max_retries" => p.max_retries = self.whole_number(&attr, diags).unwrap_or(0),
                other => unreachable!("{other} is not a provisioner meta-argument"),
            }
        }
        only_or_except(&p.only, &p.except, &p.meta, "provisioner", diags);
    }

    fn post_processor(&self, p: &mut PostProcessorDecl, diags: &mut Diagnostics) {
        for attr in p.meta.clone() {
            match attr.name.as_str() {
                "name" => p.name = self.string(&attr, diags),
                "only" => p.only = self.strings(&attr, diags).into_iter().map(|(s, _)| s).collect(),
                "except" => p.except = self.strings(&attr, diags).into_iter().map(|(s, _)| s).collect(),
                "keep_input_artifact" => {
                    p.keep_input_artifact = self.value(&attr.expr, &attr.name, diags).and_then(|v| match v {
                        Value::Bool(b) => Some(b),
                        Value::String(s) if s == "true" || s == "false" => Some(s == "true"),
                        other => {
                            diags.push(invalid(&attr, format!("keep_input_artifact must be true or false, not {}", other.type_name())));
                            None
                        }
                    })
                }
                other => unreachable!("{other} is not a post-processor meta-argument"),
            }
        }
        only_or_except(&p.only, &p.except, &p.meta, "post-processor", diags);
    }

    /// `dynamic "source" { for_each = …, labels = ["TYPE.NAME"], content { name = …, … } }`:
    /// one source reference per element, its content evaluated now (the
    /// iterator exists only here), so it joins the source's configuration
    /// as literal values.
    fn dynamic_sources(&self, block: &bake_lang::ast::Block, diags: &mut Diagnostics) -> Vec<SourceRef> {
        if self.uses_unknown(super::locals::body_exprs(&block.body)) {
            return Vec::new();
        }
        let wrapper = Body { attributes: Vec::new(), blocks: vec![block.clone()], span: block.span };
        let expanded = match self.ev.eval_body(&wrapper) {
            Ok(b) => b,
            Err(d) => {
                diags.extend(d);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for generated in expanded.blocks {
            let [label] = generated.labels.as_slice() else {
                diags.push(
                    Diagnostic::error("Invalid dynamic source", "A dynamic \"source\" block needs labels = [\"TYPE.NAME\"]: the source it refers to.")
                        .at(block.header_span()),
                );
                return out;
            };
            let Some(mut r) = parse_source_ref(label, generated.span, diags) else { continue };
            let mut extra = Body { span: generated.body.span, ..Body::default() };
            for (name, attr) in generated.body.attributes {
                if name == "name" {
                    r.rename = as_string(&attr.value, "name", attr.span, diags);
                    continue;
                }
                let expr = Expr { kind: ExprKind::Literal(attr.value), span: attr.span };
                extra.attributes.push(Attribute { name, name_span: attr.name_span, expr, span: attr.name_span.to(attr.span) });
            }
            if !generated.body.blocks.is_empty() {
                diags.push(
                    Diagnostic::error("Unsupported block in dynamic source", "The content of a dynamic \"source\" block can set arguments, not blocks.")
                        .at(generated.span),
                );
            }
            r.extra = Some(extra);
            out.push(r);
        }
        out
    }

    fn uses_unknown<'e>(&self, exprs: impl IntoIterator<Item = &'e Expr>) -> bool {
        exprs.into_iter().flat_map(references).any(|r| self.unknown.contains(&super::locals::reference_name(&r)))
    }

    /// The value of a meta-argument; `None` when it is null, unknown, or
    /// wrong (the error is in `diags`).
    fn value(&self, expr: &Expr, what: &str, diags: &mut Diagnostics) -> Option<Value> {
        if let Some(r) = references(expr).into_iter().find(|r| r.root == "build" || r.root == "source") {
            let shown = std::iter::once(r.root.as_str()).chain(r.path.iter().map(String::as_str)).collect::<Vec<_>>().join(".");
            diags.push(
                Diagnostic::error(
                    "Value not known yet",
                    format!(
                        "\"{what}\" cannot use {shown}: meta-arguments are decided before the build starts, and {}.* values exist only once it runs.",
                        r.root
                    ),
                )
                .at(r.span)
                .with_help("use variables and locals here; build.* and source.* work inside the plugin's own arguments"),
            );
            return None;
        }
        if self.uses_unknown([expr]) {
            return None;
        }
        match self.ev.eval(expr) {
            Ok(Value::Null) => None,
            Ok(v) => Some(v),
            Err(d) => {
                diags.push(d);
                None
            }
        }
    }

    fn string(&self, attr: &Attribute, diags: &mut Diagnostics) -> Option<String> {
        let v = self.value(&attr.expr, &attr.name, diags)?;
        as_string(&v, &attr.name, attr.expr.span, diags)
    }

    /// A list of strings, each with the span of its element where the list is
    /// written out (`["a", "b"]`), else the span of the whole expression.
    fn strings(&self, attr: &Attribute, diags: &mut Diagnostics) -> Vec<(String, Span)> {
        let Some(v) = self.value(&attr.expr, &attr.name, diags) else { return Vec::new() };
        let Value::List(items) = v else {
            diags.push(invalid(attr, format!("\"{}\" must be a list of strings, not {}", attr.name, v.type_name())));
            return Vec::new();
        };
        let spans: Vec<Span> = match &attr.expr.kind {
            ExprKind::Tuple(elems) if elems.len() == items.len() => elems.iter().map(|e| e.span).collect(),
            _ => vec![attr.expr.span; items.len()],
        };
        items.iter().zip(spans).filter_map(|(item, span)| as_string(item, &attr.name, span, diags).map(|s| (s, span))).collect()
    }

    fn whole_number(&self, attr: &Attribute, diags: &mut Diagnostics) -> Option<u32> {
        let v = self.value(&attr.expr, &attr.name, diags)?;
        let n = match &v {
            Value::String(s) => s.trim().parse::<f64>().ok(),
            other => other.as_number(),
        };
        match n {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Some(n as u32),
            _ => {
                diags.push(invalid(attr, format!("\"{}\" must be a whole number, not {}", attr.name, shown(&v))));
                None
            }
        }
    }

    fn duration(&self, attr: &Attribute, diags: &mut Diagnostics) -> Option<Duration> {
        let s = self.string(attr, diags)?;
        match bake_sdk::duration::parse(&s) {
            Ok(d) => Some(d),
            Err(e) => {
                diags.push(Diagnostic::error("Invalid duration", format!("\"{}\": {e}", attr.name)).at(attr.expr.span));
                None
            }
        }
    }
}

fn as_string(v: &Value, what: &str, span: Span, diags: &mut Diagnostics) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Number(_) | Value::Bool(_) => v.to_string_lossless(),
        other => {
            diags.push(Diagnostic::error("Invalid value", format!("\"{what}\" must be a string, not {}.", other.type_name())).at(span));
            None
        }
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

fn invalid(attr: &Attribute, message: String) -> Diagnostic {
    Diagnostic::error("Invalid value", format!("{message}.")).at(attr.expr.span)
}

fn only_or_except(only: &[String], except: &[String], meta: &[Attribute], what: &str, diags: &mut Diagnostics) {
    if !only.is_empty() && !except.is_empty() {
        let at = meta.iter().find(|a| a.name == "except").map_or(Span::default(), |a| a.name_span);
        diags.push(Diagnostic::error("Conflicting arguments", format!("\"only\" and \"except\" cannot both be set on one {what}.")).at(at));
    }
}

fn check_duplicate_sources(build: &BuildDecl, diags: &mut Diagnostics) {
    let mut seen: Vec<String> = Vec::new();
    for s in &build.sources {
        let full = s.local_name();
        if seen.contains(&full) {
            diags.push(
                Diagnostic::error("Duplicate source in build", format!("The source \"{full}\" appears twice in this build."))
                    .at(s.span)
                    .with_help("give the second one its own name: source \"TYPE.NAME\" { name = \"other\" }"),
            );
        }
        seen.push(full);
    }
}
