//! Plan: the loaded template becomes one [`PlannedBuild`] per build × source,
//! each with its evaluated builder configuration and the provisioners and
//! post-processor chains that apply to it. Every plugin configuration is
//! decoded and checked here, so `validate` finds every mistake before a build
//! starts.

use crate::load::template::{BuildDecl, PostProcessorDecl, ProvisionerDecl, SourceDecl, SourceRef};
use crate::load::Loaded;
use crate::plugins;
use bake_lang::ast::Body;
use bake_lang::diag::{suggest, Diagnostic, Diagnostics};
use bake_lang::eval::{EvalBody, Evaluator};
use bake_lang::Value;
use bake_sdk::{Builder, PostProcessor};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct PlannedBuild {
    /// `BUILD.TYPE.NAME`, or `TYPE.NAME` when the build block has no name.
    pub name: String,
    pub builder_type: String,
    /// The source's name in this build (after `name = …` in a nested block).
    pub source_name: String,
    pub builder: Arc<dyn Builder>,
    /// Evaluates this build's expressions: the template's scope plus `source`
    /// and `build`.
    pub evaluator: Evaluator,
    pub provisioners: Vec<ProvisionerDecl>,
    pub error_cleanup: Option<ProvisionerDecl>,
    /// Checked at plan time; prepared again after the build, with its
    /// generated values.
    pub chains: Vec<Vec<PostProcessorDecl>>,
}

/// Which builds to run: `-only` / `-except` globs over build names.
#[derive(Default, Clone)]
pub struct Selection {
    pub only: Vec<String>,
    pub except: Vec<String>,
}

impl Selection {
    fn selects(&self, name: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| glob_match(p, name))) && !self.excludes(name)
    }

    fn excludes(&self, name: &str) -> bool {
        self.except.iter().any(|p| glob_match(p, name))
    }
}

/// Packer's `-only` / `-except` matching: `*` matches any run of characters,
/// dots included.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    globset::GlobBuilder::new(pattern).literal_separator(false).build().map(|g| g.compile_matcher().is_match(name)).unwrap_or(pattern == name)
}

/// The builds to run, and what is worth saying about the rest.
pub struct Plan {
    pub builds: Vec<PlannedBuild>,
    pub warnings: Diagnostics,
}

pub fn plan(loaded: &Loaded, selection: &Selection) -> Result<Plan, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut builds = Vec::new();
    if loaded.template.builds.is_empty() {
        diags.push(
            Diagnostic::error("No build block", "The template declares no build block, so there is nothing to build.")
                .with_help("add build { sources = [\"source.TYPE.NAME\"] }"),
        );
    }
    let mut used_kinds: Vec<&str> = Vec::new();
    for build in &loaded.template.builds {
        if build.sources.is_empty() && build.dynamic_sources.is_empty() {
            diags.push(
                Diagnostic::error("Build without sources", "This build block names no source, so it would build nothing.")
                    .at(build.span)
                    .with_help("add sources = [\"source.TYPE.NAME\"], or a source \"TYPE.NAME\" { } block inside the build"),
            );
        }
        for sref in &build.sources {
            let Some(source) = find_source(loaded, sref, &mut diags) else { continue };
            let name = full_name(build, sref);
            if !selection.selects(&name) {
                continue;
            }
            used_kinds.push(&source.kind);
            if let Some(p) = plan_one(loaded, build, sref, source, name, selection, &mut diags) {
                builds.push(p);
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Plan { builds, warnings: unused_unknown_builders(loaded, &used_kinds) })
}

/// Multi-hypervisor templates are the common case: a source of a type bake
/// does not have is an error only in a build that runs. Otherwise one
/// warning per type says it was passed over.
fn unused_unknown_builders(loaded: &Loaded, used_kinds: &[&str]) -> Diagnostics {
    let mut warnings = Diagnostics::new();
    let mut seen: Vec<&str> = Vec::new();
    for s in &loaded.template.sources {
        if plugins::builder(&s.kind).is_some() || used_kinds.contains(&s.kind.as_str()) || seen.contains(&s.kind.as_str()) {
            continue;
        }
        seen.push(&s.kind);
        warnings.push(
            Diagnostic::warning(
                "Builder not available",
                format!("bake has no builder \"{}\"; its sources are not in any selected build, so they are skipped.", s.kind),
            )
            .at(s.kind_span)
            .with_help(format!("bake's builders: {}", plugins::builder_names().join(", "))),
        );
    }
    warnings
}

fn full_name(build: &BuildDecl, sref: &SourceRef) -> String {
    match &build.name {
        Some(b) => format!("{b}.{}", sref.local_name()),
        None => sref.local_name(),
    }
}

fn find_source<'a>(loaded: &'a Loaded, sref: &SourceRef, diags: &mut Diagnostics) -> Option<&'a SourceDecl> {
    let found = loaded.template.sources.iter().find(|s| s.kind == sref.kind && s.name == sref.name);
    if found.is_none() {
        let known: Vec<String> = loaded.template.sources.iter().map(|s| format!("{}.{}", s.kind, s.name)).collect();
        let wanted = format!("{}.{}", sref.kind, sref.name);
        let mut d = Diagnostic::error("Unknown source", format!("The build refers to source \"{wanted}\", which is not declared.")).at(sref.span);
        d = match suggest(&wanted, known.iter().map(String::as_str)) {
            Some(s) => d.with_help(format!("did you mean \"source.{s}\"?")),
            None if known.is_empty() => d.with_help("declare it with source \"TYPE\" \"NAME\" { … }"),
            None => d.with_help(format!("declared sources: {}", known.join(", "))),
        };
        diags.push(d);
    }
    found
}

fn plan_one(
    loaded: &Loaded,
    build: &BuildDecl,
    sref: &SourceRef,
    source: &SourceDecl,
    name: String,
    selection: &Selection,
    diags: &mut Diagnostics,
) -> Option<PlannedBuild> {
    let source_name = sref.rename.clone().unwrap_or_else(|| sref.name.clone());
    let mut evaluator = loaded.evaluator.clone();
    evaluator.root.insert(
        "source".into(),
        Value::Object([("type".to_string(), Value::from(source.kind.as_str())), ("name".to_string(), Value::from(source_name.as_str()))].into()),
    );
    evaluator.root.insert("build".into(), build_object(build, &BTreeMap::new()));

    let Some(factory) = plugins::builder(&source.kind) else {
        diags.push(unknown_plugin("builder", &source.kind, source.kind_span, plugins::builder_names()));
        return None;
    };
    let body = merged_source_body(source, sref, diags)?;
    // Errors about the configuration as a whole point at the block header.
    let config = match evaluator.eval_body(&body) {
        Ok(c) => EvalBody { span: source.span, ..c },
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    let builder = match factory(&config, &format!("source \"{}.{}\"", source.kind, source.name)) {
        Ok(b) => b,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };

    let applies = |only: &[String], except: &[String]| {
        let me = format!("{}.{}", source.kind, source_name);
        let is_me = |s: &String| {
            let s = s.strip_prefix("source.").unwrap_or(s);
            s == me || s == source_name
        };
        (only.is_empty() || only.iter().any(is_me)) && !except.iter().any(is_me)
    };
    let provisioners: Vec<ProvisionerDecl> = build.provisioners.iter().filter(|p| applies(&p.only, &p.except)).cloned().collect();
    // Provisioners and post-processors are evaluated again at run time, when
    // build.* values exist; here placeholders stand in so that their
    // configuration is checked now.
    let placeholder_eval = with_generated(&evaluator, build, &placeholder_generated());
    for p in provisioners.iter().chain(&build.error_cleanup) {
        if let Err(d) = prepare_provisioner(&placeholder_eval, p, &source_name, &source.kind) {
            diags.extend(d);
        }
    }
    let mut chains = Vec::new();
    for chain in &build.post_processor_chains {
        let mut planned = Vec::new();
        for pp in chain.iter().filter(|p| applies(&p.only, &p.except)) {
            // As in Packer, `-except` naming a post-processor drops it and
            // the rest of its chain.
            if selection.excludes(pp.display_name()) {
                break;
            }
            match prepare_post_processor(&placeholder_eval, pp) {
                Ok(_) => planned.push(pp.clone()),
                Err(d) => diags.extend(d),
            }
        }
        if !planned.is_empty() {
            chains.push(planned);
        }
    }
    Some(PlannedBuild {
        name,
        builder_type: source.kind.clone(),
        source_name,
        builder: builder.into(),
        evaluator,
        provisioners,
        error_cleanup: build.error_cleanup.clone(),
        chains,
    })
}

/// The source's body plus what a nested `source "TYPE.NAME" { … }` in the
/// build adds. Setting an argument the source already sets is an error, as in
/// Packer.
fn merged_source_body(source: &SourceDecl, sref: &SourceRef, diags: &mut Diagnostics) -> Option<Body> {
    let mut body = source.body.clone();
    let Some(extra) = &sref.extra else { return Some(body) };
    let mut ok = true;
    for attr in &extra.attributes {
        if body.attribute(&attr.name).is_some() {
            diags.push(
                Diagnostic::error(
                    "Argument already set",
                    format!(
                        "\"{}\" is already set in source \"{}.{}\"; a build can add arguments to a source but not change them.",
                        attr.name, source.kind, source.name
                    ),
                )
                .at(attr.name_span),
            );
            ok = false;
        } else {
            body.attributes.push(attr.clone());
        }
    }
    body.blocks.extend(extra.blocks.iter().cloned());
    ok.then_some(body)
}

/// The `build` object: `name` at plan time; the generated values once the
/// machine exists.
fn build_object(build: &BuildDecl, generated: &BTreeMap<String, String>) -> Value {
    let mut map: BTreeMap<String, Value> = generated.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
    map.insert("name".into(), Value::from(build.name.clone().unwrap_or_default()));
    Value::Object(map)
}

/// What `build.*` holds before the machine exists: each value names itself.
pub fn placeholder_generated() -> BTreeMap<String, String> {
    [
        "ID",
        "Host",
        "Port",
        "User",
        "Password",
        "SSHPrivateKey",
        "SSHPublicKey",
        "PackerRunUUID",
        "PackerHTTPAddr",
        "PackerHTTPIP",
        "PackerHTTPPort",
        "SourceAMI",
        "SourceAMIName",
        "SourceAMIOwner",
        "SourceAMIOwnerName",
        "SourceAMICreationDate",
        "BuildRegion",
        "ImageName",
    ]
    .iter()
    .map(|k| (k.to_string(), format!("<build.{k}>")))
    .collect()
}

pub fn with_generated(ev: &Evaluator, build: &BuildDecl, generated: &BTreeMap<String, String>) -> Evaluator {
    let mut ev = ev.clone();
    ev.root.insert("build".into(), build_object(build, generated));
    ev
}

/// Evaluates a provisioner's configuration for one source, applies its
/// `override` for that source, and prepares the plugin.
pub fn prepare_provisioner(ev: &Evaluator, p: &ProvisionerDecl, source_name: &str, source_type: &str) -> Result<Arc<dyn bake_sdk::Provisioner>, Diagnostics> {
    let Some(factory) = plugins::provisioner(&p.kind) else {
        return Err(unknown_plugin("provisioner", &p.kind, p.kind_span, plugins::provisioner_names()).into());
    };
    let mut config = EvalBody { span: p.span, ..ev.eval_body(&p.body)? };
    if let Some(o) = &p.override_expr {
        apply_override(ev, o, &mut config, source_name, source_type)?;
    }
    factory(&config, &format!("provisioner \"{}\"", p.kind)).map(Arc::from)
}

/// `override = { "TYPE.NAME" = { key = value } }` (or keyed by the source's
/// name alone) replaces arguments for that source.
fn apply_override(ev: &Evaluator, expr: &bake_lang::ast::Expr, config: &mut EvalBody, source_name: &str, source_type: &str) -> Result<(), Diagnostics> {
    let value = ev.eval(expr)?;
    let Value::Object(map) = value else {
        return Err(Diagnostic::error("Invalid override", "override must be an object keyed by source name.").at(expr.span).into());
    };
    let full = format!("{source_type}.{source_name}");
    for key in [source_name, full.as_str()] {
        if let Some(Value::Object(args)) = map.get(key) {
            for (k, v) in args {
                config.attributes.insert(k.clone(), bake_lang::eval::EvalAttr { value: v.clone(), name_span: expr.span, span: expr.span });
            }
        }
    }
    Ok(())
}

/// Evaluates a post-processor's configuration (at run time with the
/// build's generated values, as provisioners are) and prepares the plugin.
pub fn prepare_post_processor(ev: &Evaluator, p: &PostProcessorDecl) -> Result<Arc<dyn PostProcessor>, Diagnostics> {
    let Some(factory) = plugins::post_processor(&p.kind) else {
        return Err(unknown_plugin("post-processor", &p.kind, p.kind_span, plugins::post_processor_names()).into());
    };
    let config = EvalBody { span: p.span, ..ev.eval_body(&p.body)? };
    factory(&config, &format!("post-processor \"{}\"", p.kind)).map(Arc::from)
}

fn unknown_plugin(what: &str, kind: &str, span: bake_lang::Span, known: Vec<&'static str>) -> Diagnostic {
    let mut d =
        Diagnostic::error(format!("Unknown {what} type"), format!("bake has no {what} named \"{kind}\". Known {what}s: {}.", known.join(", "))).at(span);
    if let Some(s) = suggest(kind, known.iter().copied()) {
        d = d.with_help(format!("did you mean \"{s}\"?"));
    }
    d
}
