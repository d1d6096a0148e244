//! The template's blocks, read from parsed files into typed structures. No
//! expression is evaluated here except the static meta-arguments (`only`,
//! `except`, `name`, …) that Packer also reads statically.

use bake_lang::ast::{Attribute, Block, Body, Expr, ExprKind};
use bake_lang::diag::{suggest, Diagnostic, Diagnostics};
use bake_lang::{Span, Value};

#[derive(Debug, Default)]
pub struct Template {
    pub packer: Vec<PackerBlock>,
    pub variables: Vec<VariableDecl>,
    pub locals: Vec<LocalDecl>,
    pub sources: Vec<SourceDecl>,
    pub data: Vec<DataDecl>,
    pub builds: Vec<BuildDecl>,
}

#[derive(Debug)]
pub struct PackerBlock {
    pub required_version: Option<Attribute>,
    pub has_required_plugins: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct VariableDecl {
    pub name: String,
    pub type_expr: Option<Expr>,
    pub default: Option<Expr>,
    pub description: Option<Expr>,
    pub sensitive: Option<Expr>,
    pub validations: Vec<Validation>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: Expr,
}

#[derive(Debug, Clone)]
pub struct LocalDecl {
    pub name: String,
    pub expr: Expr,
    pub sensitive: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct SourceDecl {
    pub kind: String,
    /// The type label, where "unknown builder" points.
    pub kind_span: Span,
    pub name: String,
    pub body: Body,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct DataDecl {
    pub kind: String,
    pub kind_span: Span,
    pub name: String,
    pub body: Body,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct BuildDecl {
    pub name: Option<String>,
    pub description: Option<String>,
    pub sources: Vec<SourceRef>,
    pub provisioners: Vec<ProvisionerDecl>,
    pub error_cleanup: Option<ProvisionerDecl>,
    /// Each top-level `post-processor` is a chain of one; each
    /// `post-processors {}` block is one chain.
    pub post_processor_chains: Vec<Vec<PostProcessorDecl>>,
}

/// `sources = ["source.qemu.web"]` or `source "qemu.web" { name = "x", … }`.
#[derive(Debug, Clone)]
pub struct SourceRef {
    pub kind: String,
    pub name: String,
    /// `name = "…"` inside a nested source block: the build's own name for it.
    pub rename: Option<String>,
    /// Attributes a nested source block adds to the source's configuration.
    pub extra: Option<Body>,
    pub span: Span,
}

impl SourceRef {
    /// `TYPE.NAME` as provisioners' `only` / `except` see it.
    pub fn local_name(&self) -> String {
        format!("{}.{}", self.kind, self.rename.as_ref().unwrap_or(&self.name))
    }
}

#[derive(Debug, Clone)]
pub struct ProvisionerDecl {
    pub kind: String,
    pub kind_span: Span,
    pub name: Option<String>,
    pub only: Vec<String>,
    pub except: Vec<String>,
    pub override_expr: Option<Expr>,
    pub pause_before: Option<std::time::Duration>,
    pub max_retries: u32,
    pub timeout: Option<std::time::Duration>,
    /// The configuration, meta-arguments removed.
    pub body: Body,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct PostProcessorDecl {
    pub kind: String,
    pub kind_span: Span,
    pub name: Option<String>,
    pub only: Vec<String>,
    pub except: Vec<String>,
    pub keep_input_artifact: Option<bool>,
    pub body: Body,
    pub span: Span,
}

const TOP_LEVEL: &[(&str, usize)] =
    &[("packer", 0), ("variable", 1), ("variables", 0), ("locals", 0), ("local", 1), ("source", 2), ("data", 2), ("build", 0)];

impl Template {
    /// Adds one file's blocks.
    pub fn add_file(&mut self, body: &Body, diags: &mut Diagnostics) {
        for attr in &body.attributes {
            diags.push(
                Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected at the top level of a template.", attr.name))
                    .at(attr.name_span)
                    .with_help("top-level content is blocks: packer, variable, locals, source, data, build"),
            );
        }
        for block in &body.blocks {
            let Some(labels) = TOP_LEVEL.iter().find(|(k, _)| *k == block.kind).map(|(_, n)| *n) else {
                let mut d = Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected here.", block.kind)).at(block.kind_span);
                if let Some(s) = suggest(&block.kind, TOP_LEVEL.iter().map(|(k, _)| *k)) {
                    d = d.with_help(format!("did you mean \"{s}\"?"));
                }
                diags.push(d);
                continue;
            };
            if !check_labels(block, labels, diags) {
                continue;
            }
            match block.kind.as_str() {
                "packer" => self.packer.push(read_packer(block, diags)),
                "variable" => {
                    if let Some(v) = read_variable(&block.labels[0].value, block, diags) {
                        self.add_variable(v, diags);
                    }
                }
                "variables" => {
                    // The legacy form: `variables { name = default }`.
                    no_blocks(&block.body, "variables", diags);
                    for attr in &block.body.attributes {
                        let v = VariableDecl {
                            name: attr.name.clone(),
                            type_expr: None,
                            default: Some(attr.expr.clone()),
                            description: None,
                            sensitive: None,
                            validations: Vec::new(),
                            span: attr.name_span,
                        };
                        self.add_variable(v, diags);
                    }
                }
                "locals" => {
                    no_blocks(&block.body, "locals", diags);
                    for attr in &block.body.attributes {
                        self.add_local(LocalDecl { name: attr.name.clone(), expr: attr.expr.clone(), sensitive: None, span: attr.name_span }, diags);
                    }
                }
                "local" => {
                    let body = &block.body;
                    check_body(body, &["expression", "sensitive"], &[], "a local block", diags);
                    match body.attribute("expression") {
                        Some(e) => self.add_local(
                            LocalDecl {
                                name: block.labels[0].value.clone(),
                                expr: e.expr.clone(),
                                sensitive: body.attribute("sensitive").map(|a| a.expr.clone()),
                                span: block.labels[0].span,
                            },
                            diags,
                        ),
                        None => diags.push(
                            Diagnostic::error("Missing required argument", "A local block needs an \"expression\" argument.").at(block.header_span()),
                        ),
                    }
                }
                "source" => {
                    let (kind, name) = (block.labels[0].value.clone(), block.labels[1].value.clone());
                    if let Some(prev) = self.sources.iter().find(|s| s.kind == kind && s.name == name) {
                        diags.push(duplicate("source", &format!("{kind}.{name}"), block.header_span(), prev.span));
                        continue;
                    }
                    self.sources.push(SourceDecl { kind, kind_span: block.labels[0].span, name, body: block.body.clone(), span: block.header_span() });
                }
                "data" => {
                    let (kind, name) = (block.labels[0].value.clone(), block.labels[1].value.clone());
                    if let Some(prev) = self.data.iter().find(|s| s.kind == kind && s.name == name) {
                        diags.push(duplicate("data source", &format!("{kind}.{name}"), block.header_span(), prev.span));
                        continue;
                    }
                    self.data.push(DataDecl { kind, kind_span: block.labels[0].span, name, body: block.body.clone(), span: block.header_span() });
                }
                "build" => {
                    if let Some(b) = read_build(block, diags) {
                        self.builds.push(b);
                    }
                }
                _ => unreachable!("checked against TOP_LEVEL"),
            }
        }
    }

    fn add_variable(&mut self, v: VariableDecl, diags: &mut Diagnostics) {
        if let Some(prev) = self.variables.iter().find(|p| p.name == v.name) {
            diags.push(duplicate("variable", &v.name, v.span, prev.span));
            return;
        }
        self.variables.push(v);
    }

    fn add_local(&mut self, l: LocalDecl, diags: &mut Diagnostics) {
        if let Some(prev) = self.locals.iter().find(|p| p.name == l.name) {
            diags.push(duplicate("local", &l.name, l.span, prev.span));
            return;
        }
        self.locals.push(l);
    }
}

fn duplicate(what: &str, name: &str, span: Span, _previous: Span) -> Diagnostic {
    Diagnostic::error(format!("Duplicate {what}"), format!("A {what} named \"{name}\" was already declared; each name must be unique."))
        .at(span)
}

fn check_labels(block: &Block, expected: usize, diags: &mut Diagnostics) -> bool {
    if block.labels.len() == expected {
        return true;
    }
    let shape = match (block.kind.as_str(), expected) {
        ("source" | "data", _) => format!("{} \"TYPE\" \"NAME\"", block.kind),
        ("provisioner" | "post-processor" | "error-cleanup-provisioner", _) => format!("{} \"TYPE\"", block.kind),
        (_, 0) => block.kind.clone(),
        (_, _) => format!("{} \"NAME\"", block.kind),
    };
    diags.push(
        Diagnostic::error(
            "Wrong number of block labels",
            format!("A {} block takes {expected} label{}, but this one has {}.", block.kind, if expected == 1 { "" } else { "s" }, block.labels.len()),
        )
        .at(block.header_span())
        .with_help(format!("write it as: {shape} {{ … }}")),
    );
    false
}

/// Reports arguments and blocks a fixed-schema block does not accept.
pub fn check_body(body: &Body, attrs: &[&str], blocks: &[&str], what: &str, diags: &mut Diagnostics) {
    for a in &body.attributes {
        if !attrs.contains(&a.name.as_str()) {
            let mut d = Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected in {what}.", a.name)).at(a.name_span);
            d = match suggest(&a.name, attrs.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                None => d.with_help(format!("the arguments accepted here are: {}", attrs.join(", "))),
            };
            diags.push(d);
        }
    }
    for b in &body.blocks {
        if !blocks.contains(&b.kind.as_str()) {
            let mut d = Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected in {what}.", b.kind)).at(b.kind_span);
            if let Some(s) = suggest(&b.kind, blocks.iter().copied()) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            }
            diags.push(d);
        }
    }
}

fn no_blocks(body: &Body, what: &str, diags: &mut Diagnostics) {
    check_body(body, &body.attributes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), &[], &format!("a {what} block"), diags);
}

fn read_packer(block: &Block, diags: &mut Diagnostics) -> PackerBlock {
    check_body(&block.body, &["required_version"], &["required_plugins"], "the packer block", diags);
    PackerBlock {
        required_version: block.body.attribute("required_version").cloned(),
        has_required_plugins: block.body.blocks_of("required_plugins").next().is_some(),
        span: block.header_span(),
    }
}

fn read_variable(name: &str, block: &Block, diags: &mut Diagnostics) -> Option<VariableDecl> {
    let body = &block.body;
    check_body(body, &["type", "default", "description", "sensitive", "nullable"], &["validation"], "a variable block", diags);
    let mut validations = Vec::new();
    for v in body.blocks_of("validation") {
        check_body(&v.body, &["condition", "error_message"], &[], "a validation block", diags);
        match (v.body.attribute("condition"), v.body.attribute("error_message")) {
            (Some(c), Some(m)) => validations.push(Validation { condition: c.expr.clone(), error_message: m.expr.clone() }),
            _ => diags.push(
                Diagnostic::error("Incomplete validation", "A validation block needs both \"condition\" and \"error_message\".").at(v.header_span()),
            ),
        }
    }
    if !is_identifier(name) {
        diags.push(Diagnostic::error("Invalid variable name", format!("\"{name}\" is not a valid name: use letters, digits, underscores and dashes, starting with a letter.")).at(block.labels[0].span));
        return None;
    }
    Some(VariableDecl {
        name: name.to_string(),
        type_expr: body.attribute("type").map(|a| a.expr.clone()),
        default: body.attribute("default").map(|a| a.expr.clone()),
        description: body.attribute("description").map(|a| a.expr.clone()),
        sensitive: body.attribute("sensitive").map(|a| a.expr.clone()),
        validations,
        span: block.labels[0].span,
    })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

const BUILD_ATTRS: &[&str] = &["name", "description", "sources"];
const BUILD_BLOCKS: &[&str] = &["source", "provisioner", "error-cleanup-provisioner", "post-processor", "post-processors", "hcp_packer_registry"];

fn read_build(block: &Block, diags: &mut Diagnostics) -> Option<BuildDecl> {
    let body = &block.body;
    check_body(body, BUILD_ATTRS, BUILD_BLOCKS, "a build block", diags);
    let mut build = BuildDecl {
        name: body.attribute("name").and_then(|a| static_string(&a.expr, "name", diags)),
        description: body.attribute("description").and_then(|a| static_string(&a.expr, "description", diags)),
        sources: Vec::new(),
        provisioners: Vec::new(),
        error_cleanup: None,
        post_processor_chains: Vec::new(),
    };
    if let Some(attr) = body.attribute("sources") {
        for (s, span) in static_strings(&attr.expr, "sources", diags) {
            if let Some(r) = parse_source_ref(&s, span, true, diags) {
                build.sources.push(r);
            }
        }
    }
    for b in &body.blocks {
        match b.kind.as_str() {
            "source" => {
                if !check_labels(b, 1, diags) {
                    continue;
                }
                let Some(mut r) = parse_source_ref(&b.labels[0].value, b.labels[0].span, false, diags) else { continue };
                let mut extra = b.body.clone();
                if let Some(pos) = extra.attributes.iter().position(|a| a.name == "name") {
                    let attr = extra.attributes.remove(pos);
                    r.rename = static_string(&attr.expr, "name", diags);
                }
                r.extra = Some(extra);
                r.span = b.header_span();
                build.sources.push(r);
            }
            "provisioner" => {
                if check_labels(b, 1, diags) {
                    build.provisioners.extend(read_provisioner(b, diags));
                }
            }
            "error-cleanup-provisioner" => {
                if check_labels(b, 1, diags) {
                    if build.error_cleanup.is_some() {
                        diags.push(Diagnostic::error("Duplicate error-cleanup-provisioner", "A build can have only one error-cleanup-provisioner.").at(b.header_span()));
                    }
                    build.error_cleanup = read_provisioner(b, diags);
                }
            }
            "post-processor" => {
                if check_labels(b, 1, diags) {
                    build.post_processor_chains.extend(read_post_processor(b, diags).map(|p| vec![p]));
                }
            }
            "post-processors" => {
                if !check_labels(b, 0, diags) {
                    continue;
                }
                check_body(&b.body, &[], &["post-processor"], "a post-processors block", diags);
                let mut chain = Vec::new();
                for p in b.body.blocks_of("post-processor") {
                    if check_labels(p, 1, diags) {
                        chain.extend(read_post_processor(p, diags));
                    }
                }
                if !chain.is_empty() {
                    build.post_processor_chains.push(chain);
                }
            }
            _ => {}
        }
    }
    let mut seen: Vec<(String, Span)> = Vec::new();
    for s in &build.sources {
        let full = s.local_name();
        if seen.iter().any(|(n, _)| *n == full) {
            diags.push(
                Diagnostic::error("Duplicate source in build", format!("The source \"{full}\" appears twice in this build."))
                    .at(s.span)
                    .with_help("give the second one its own name: source \"TYPE.NAME\" { name = \"other\" }"),
            );
        }
        seen.push((full, s.span));
    }
    Some(build)
}

/// `source.TYPE.NAME` (in `sources = [...]`) or `TYPE.NAME` (a nested block label).
fn parse_source_ref(s: &str, span: Span, prefixed: bool, diags: &mut Diagnostics) -> Option<SourceRef> {
    let rest = if prefixed { s.strip_prefix("source.") } else { Some(s.strip_prefix("source.").unwrap_or(s)) };
    match rest.and_then(|r| r.split_once('.')) {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() && !name.contains('.') => {
            Some(SourceRef { kind: kind.to_string(), name: name.to_string(), rename: None, extra: None, span })
        }
        _ => {
            let form = if prefixed { "source.TYPE.NAME" } else { "TYPE.NAME" };
            diags.push(Diagnostic::error("Invalid source reference", format!("\"{s}\" is not a source reference; expected {form}.")).at(span));
            None
        }
    }
}

const PROVISIONER_META: &[&str] = &["name", "only", "except", "override", "pause_before", "max_retries", "timeout"];

fn read_provisioner(block: &Block, diags: &mut Diagnostics) -> Option<ProvisionerDecl> {
    let (body, meta) = split_meta(&block.body, PROVISIONER_META);
    let get = |n: &str| meta.iter().find(|a| a.name == n);
    let only = get("only").map(|a| static_strings(&a.expr, "only", diags).into_iter().map(|(s, _)| s).collect()).unwrap_or_default();
    let except: Vec<String> = get("except").map(|a| static_strings(&a.expr, "except", diags).into_iter().map(|(s, _)| s).collect()).unwrap_or_default();
    if let (Some(_), Some(e)) = (get("only"), get("except")) {
        diags.push(Diagnostic::error("Conflicting arguments", "\"only\" and \"except\" cannot both be set on one provisioner.").at(e.name_span));
    }
    Some(ProvisionerDecl {
        kind: block.labels[0].value.clone(),
        kind_span: block.labels[0].span,
        name: get("name").and_then(|a| static_string(&a.expr, "name", diags)),
        only,
        except,
        override_expr: get("override").map(|a| a.expr.clone()),
        pause_before: get("pause_before").and_then(|a| static_duration(&a.expr, "pause_before", diags)),
        max_retries: get("max_retries").and_then(|a| static_number(&a.expr, "max_retries", diags)).unwrap_or(0),
        timeout: get("timeout").and_then(|a| static_duration(&a.expr, "timeout", diags)),
        body,
        span: block.header_span(),
    })
}

const POST_PROCESSOR_META: &[&str] = &["name", "only", "except", "keep_input_artifact"];

fn read_post_processor(block: &Block, diags: &mut Diagnostics) -> Option<PostProcessorDecl> {
    let (body, meta) = split_meta(&block.body, POST_PROCESSOR_META);
    let get = |n: &str| meta.iter().find(|a| a.name == n);
    if let (Some(_), Some(e)) = (get("only"), get("except")) {
        diags.push(Diagnostic::error("Conflicting arguments", "\"only\" and \"except\" cannot both be set on one post-processor.").at(e.name_span));
    }
    Some(PostProcessorDecl {
        kind: block.labels[0].value.clone(),
        kind_span: block.labels[0].span,
        name: get("name").and_then(|a| static_string(&a.expr, "name", diags)),
        only: get("only").map(|a| static_strings(&a.expr, "only", diags).into_iter().map(|(s, _)| s).collect()).unwrap_or_default(),
        except: get("except").map(|a| static_strings(&a.expr, "except", diags).into_iter().map(|(s, _)| s).collect()).unwrap_or_default(),
        keep_input_artifact: get("keep_input_artifact").and_then(|a| match &a.expr.kind {
            ExprKind::Literal(Value::Bool(b)) => Some(*b),
            _ => {
                diags.push(Diagnostic::error("Invalid keep_input_artifact", "keep_input_artifact must be true or false.").at(a.expr.span));
                None
            }
        }),
        body,
        span: block.header_span(),
    })
}

fn split_meta(body: &Body, meta: &[&str]) -> (Body, Vec<Attribute>) {
    let mut rest = body.clone();
    let (m, others): (Vec<_>, Vec<_>) = rest.attributes.drain(..).partition(|a| meta.contains(&a.name.as_str()));
    rest.attributes = others;
    (rest, m)
}

/// Meta-arguments are read before any variable exists, as in Packer: they
/// must be literal.
fn static_string(expr: &Expr, what: &str, diags: &mut Diagnostics) -> Option<String> {
    match literal(expr) {
        Some(Value::String(s)) => Some(s),
        _ => {
            diags.push(Diagnostic::error("Invalid value", format!("\"{what}\" must be a literal string here.")).at(expr.span));
            None
        }
    }
}

fn static_strings(expr: &Expr, what: &str, diags: &mut Diagnostics) -> Vec<(String, Span)> {
    if let ExprKind::Tuple(items) = &expr.kind {
        let mut out = Vec::new();
        for item in items {
            if let Some(s) = static_string(item, what, diags) {
                out.push((s, item.span));
            }
        }
        return out;
    }
    diags.push(Diagnostic::error("Invalid value", format!("\"{what}\" must be a list of literal strings.")).at(expr.span));
    Vec::new()
}

fn static_number(expr: &Expr, what: &str, diags: &mut Diagnostics) -> Option<u32> {
    match literal(expr) {
        Some(Value::Number(n)) if n.to_u64().is_some() => n.to_u64().map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        Some(Value::String(s)) if s.parse::<u32>().is_ok() => s.parse().ok(),
        _ => {
            diags.push(Diagnostic::error("Invalid value", format!("\"{what}\" must be a whole number.")).at(expr.span));
            None
        }
    }
}

fn static_duration(expr: &Expr, what: &str, diags: &mut Diagnostics) -> Option<std::time::Duration> {
    let s = static_string(expr, what, diags)?;
    match bake_sdk::duration::parse(&s) {
        Ok(d) => Some(d),
        Err(e) => {
            diags.push(Diagnostic::error("Invalid duration", format!("\"{what}\": {e}")).at(expr.span));
            None
        }
    }
}

fn literal(expr: &Expr) -> Option<Value> {
    match &expr.kind {
        ExprKind::Literal(v) => Some(v.clone()),
        ExprKind::Template(parts) => match parts.as_slice() {
            [bake_lang::ast::TemplatePart::Literal(s)] => Some(Value::String(s.clone())),
            [] => Some(Value::String(String::new())),
            _ => None,
        },
        _ => None,
    }
}
