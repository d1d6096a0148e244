//! The template's blocks, read from parsed files into typed structures. No
//! expression is evaluated here: the meta-arguments (`name`, `sources`,
//! `only`, `except`, …) are kept as expressions and resolved by
//! [`super::meta`] once variables and locals are known, as in Packer.

use bake_lang::ast::{Attribute, Block, Body, Expr};
use bake_lang::diag::{suggest, Diagnostic, Diagnostics};
use bake_lang::Span;

#[derive(Debug, Default)]
pub struct Template {
    pub packer: Vec<PackerBlock>,
    pub variables: Vec<VariableDecl>,
    pub locals: Vec<LocalDecl>,
    pub sources: Vec<SourceDecl>,
    pub data: Vec<DataDecl>,
    pub builds: Vec<BuildDecl>,
    /// Every `hcp_packer_registry` block (top level or in a build): accepted
    /// as Packer accepts them; bake publishes nothing to HCP Packer.
    pub hcp_registry_blocks: Vec<Span>,
}

#[derive(Debug)]
pub struct PackerBlock {
    pub required_version: Option<Attribute>,
    pub has_required_plugins: bool,
    /// Each `NAME = { source = "…", version = "…" }` of `required_plugins`.
    pub required_plugins: Vec<Attribute>,
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
    /// Resolved from `name_expr` by [`super::meta::resolve`].
    pub name: Option<String>,
    pub description: Option<String>,
    /// The nested `source` blocks at first; [`super::meta::resolve`] adds
    /// those of `sources = [...]` and of `dynamic "source"` blocks.
    pub sources: Vec<SourceRef>,
    pub provisioners: Vec<ProvisionerDecl>,
    pub error_cleanup: Option<ProvisionerDecl>,
    /// Each top-level `post-processor` is a chain of one; each
    /// `post-processors {}` block is one chain.
    pub post_processor_chains: Vec<Vec<PostProcessorDecl>>,
    /// The meta-arguments `name`, `description` and `sources`, unevaluated.
    pub meta: Vec<Attribute>,
    /// `dynamic "source" { … }` blocks, expanded when variables are known.
    pub dynamic_sources: Vec<Block>,
    /// The block header, where "no sources" points.
    pub span: Span,
}

/// `sources = ["source.qemu.web"]` or `source "qemu.web" { name = "x", … }`.
#[derive(Debug, Clone)]
pub struct SourceRef {
    pub kind: String,
    pub name: String,
    /// `name = "…"` inside a nested source block: the build's own name for
    /// it, resolved from `rename_expr`.
    pub rename: Option<String>,
    pub rename_expr: Option<Expr>,
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
    /// The meta-arguments above, unevaluated; [`super::meta::resolve`]
    /// fills the fields from them.
    pub meta: Vec<Attribute>,
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
    /// The meta-arguments above, unevaluated.
    pub meta: Vec<Attribute>,
    pub body: Body,
    pub span: Span,
}

impl PostProcessorDecl {
    /// What `-except` matches: the post-processor's name, else its type.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.kind)
    }
}

const TOP_LEVEL: &[(&str, usize)] =
    &[("packer", 0), ("variable", 1), ("variables", 0), ("locals", 0), ("local", 1), ("source", 2), ("data", 2), ("build", 0), ("hcp_packer_registry", 0)];

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
                let mut d =
                    Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected here.", block.kind)).at(block.kind_span);
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
                        None => diags
                            .push(Diagnostic::error("Missing required argument", "A local block needs an \"expression\" argument.").at(block.header_span())),
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
                    let build = read_build(block, diags);
                    self.hcp_registry_blocks.extend(block.body.blocks_of("hcp_packer_registry").map(Block::header_span));
                    self.builds.push(build);
                }
                "hcp_packer_registry" => self.hcp_registry_blocks.push(block.header_span()),
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
    Diagnostic::error(format!("Duplicate {what}"), format!("A {what} named \"{name}\" was already declared; each name must be unique.")).at(span)
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
        required_plugins: block.body.blocks_of("required_plugins").flat_map(|b| b.body.attributes.iter().cloned()).collect(),
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
            _ => {
                diags.push(Diagnostic::error("Incomplete validation", "A validation block needs both \"condition\" and \"error_message\".").at(v.header_span()))
            }
        }
    }
    if !is_identifier(name) {
        diags.push(
            Diagnostic::error(
                "Invalid variable name",
                format!("\"{name}\" is not a valid name: use letters, digits, underscores and dashes, starting with a letter."),
            )
            .at(block.labels[0].span),
        );
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

const BUILD_META: &[&str] = &["name", "description", "sources"];
const BUILD_BLOCKS: &[&str] = &["source", "dynamic", "provisioner", "error-cleanup-provisioner", "post-processor", "post-processors", "hcp_packer_registry"];

// The label checks stay inside the arms: as match guards, a block with bad
// labels would fall through to the "unsupported block" arm and be reported
// twice.
#[allow(clippy::collapsible_match)]
fn read_build(block: &Block, diags: &mut Diagnostics) -> BuildDecl {
    let body = &block.body;
    check_body(body, BUILD_META, BUILD_BLOCKS, "a build block", diags);
    let mut build = BuildDecl {
        name: None,
        description: None,
        sources: Vec::new(),
        provisioners: Vec::new(),
        error_cleanup: None,
        post_processor_chains: Vec::new(),
        meta: body.attributes.iter().filter(|a| BUILD_META.contains(&a.name.as_str())).cloned().collect(),
        dynamic_sources: Vec::new(),
        span: block.header_span(),
    };
    for b in &body.blocks {
        match b.kind.as_str() {
            "source" => {
                if !check_labels(b, 1, diags) {
                    continue;
                }
                let Some(mut r) = parse_source_ref(&b.labels[0].value, b.labels[0].span, diags) else { continue };
                let mut extra = b.body.clone();
                if let Some(pos) = extra.attributes.iter().position(|a| a.name == "name") {
                    r.rename_expr = Some(extra.attributes.remove(pos).expr);
                }
                r.extra = Some(extra);
                r.span = b.header_span();
                build.sources.push(r);
            }
            "dynamic" => match b.labels.first().map(|l| l.value.as_str()) {
                Some("source") => build.dynamic_sources.push(b.clone()),
                _ => diags.push(
                    Diagnostic::error("Unsupported dynamic block", "Only \"source\" blocks can be generated with dynamic in a build block.")
                        .at(b.header_span())
                        .with_help("write dynamic \"source\" { for_each = …, labels = [\"TYPE.NAME\"], content { … } }"),
                ),
            },
            "provisioner" => {
                if check_labels(b, 1, diags) {
                    build.provisioners.push(read_provisioner(b));
                }
            }
            "error-cleanup-provisioner" => {
                if check_labels(b, 1, diags) {
                    if build.error_cleanup.is_some() {
                        diags.push(
                            Diagnostic::error("Duplicate error-cleanup-provisioner", "A build can have only one error-cleanup-provisioner.")
                                .at(b.header_span()),
                        );
                    }
                    build.error_cleanup = Some(read_provisioner(b));
                }
            }
            "post-processor" => {
                if check_labels(b, 1, diags) {
                    build.post_processor_chains.push(vec![read_post_processor(b)]);
                }
            }
            "post-processors" => {
                if !check_labels(b, 0, diags) {
                    continue;
                }
                check_body(&b.body, &[], &["post-processor"], "a post-processors block", diags);
                let chain: Vec<PostProcessorDecl> = b.body.blocks_of("post-processor").filter(|p| check_labels(p, 1, diags)).map(read_post_processor).collect();
                if !chain.is_empty() {
                    build.post_processor_chains.push(chain);
                }
            }
            _ => {}
        }
    }
    build
}

/// A source reference, as Packer reads one: split on dots, the last two
/// parts are TYPE and NAME, and whatever comes before them (`source.`,
/// `sources.`) is ignored. Used for `sources = [...]` items and nested
/// `source "TYPE.NAME"` labels alike.
pub fn parse_source_ref(s: &str, span: Span, diags: &mut Diagnostics) -> Option<SourceRef> {
    let parts: Vec<&str> = s.split('.').collect();
    match parts.as_slice() {
        [.., kind, name] if !kind.is_empty() && !name.is_empty() => {
            Some(SourceRef { kind: kind.to_string(), name: name.to_string(), rename: None, rename_expr: None, extra: None, span })
        }
        _ => {
            diags.push(
                Diagnostic::error("Invalid source reference", format!("\"{s}\" is not a source reference; expected TYPE.NAME or source.TYPE.NAME."))
                    .at(span)
                    .with_help("name a declared source, such as \"source.qemu.web\""),
            );
            None
        }
    }
}

pub const PROVISIONER_META: &[&str] = &["name", "only", "except", "pause_before", "max_retries", "timeout"];

fn read_provisioner(block: &Block) -> ProvisionerDecl {
    let (mut body, meta) = split_meta(&block.body, PROVISIONER_META);
    let override_expr = body.attributes.iter().position(|a| a.name == "override").map(|i| body.attributes.remove(i).expr);
    ProvisionerDecl {
        kind: block.labels[0].value.clone(),
        kind_span: block.labels[0].span,
        name: None,
        only: Vec::new(),
        except: Vec::new(),
        override_expr,
        pause_before: None,
        max_retries: 0,
        timeout: None,
        meta,
        body,
        span: block.header_span(),
    }
}

pub const POST_PROCESSOR_META: &[&str] = &["name", "only", "except", "keep_input_artifact"];

fn read_post_processor(block: &Block) -> PostProcessorDecl {
    let (body, meta) = split_meta(&block.body, POST_PROCESSOR_META);
    PostProcessorDecl {
        kind: block.labels[0].value.clone(),
        kind_span: block.labels[0].span,
        name: None,
        only: Vec::new(),
        except: Vec::new(),
        keep_input_artifact: None,
        meta,
        body,
        span: block.header_span(),
    }
}

fn split_meta(body: &Body, meta: &[&str]) -> (Body, Vec<Attribute>) {
    let mut rest = body.clone();
    let (m, others): (Vec<_>, Vec<_>) = rest.attributes.drain(..).partition(|a| meta.contains(&a.name.as_str()));
    rest.attributes = others;
    (rest, m)
}
