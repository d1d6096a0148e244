//! The `packer {}` block: `required_version` is checked against the Packer
//! version bake is compatible with; `required_plugins` needs no installing.

use super::template::PackerBlock;
use super::PACKER_COMPAT_VERSION;
use bake_lang::ast::{Attribute, Expr, ExprKind, ObjectKey};
use bake_lang::diag::{Diagnostic, Diagnostics};
use bake_lang::eval::Evaluator;
use bake_lang::Value;

pub fn check_packer_block(block: &PackerBlock, ev: &Evaluator, diags: &mut Diagnostics, warnings: &mut Diagnostics) {
    if block.has_required_plugins {
        warnings.push(
            Diagnostic::warning(
                "Plugins are built in",
                "bake builds in its builders, provisioners and post-processors; required_plugins needs no `init` and is not downloaded.",
            )
            .at(block.span),
        );
    }
    for plugin in &block.required_plugins {
        check_required_plugin(plugin, ev, diags);
    }
    let Some(attr) = &block.required_version else { return };
    let constraint = match ev.eval(&attr.expr) {
        Ok(v) => match v.as_str() {
            Some(s) => s.to_string(),
            None => {
                diags.push(Diagnostic::error("Invalid required_version", "required_version must be a string such as \">= 1.7.0\".").at(attr.expr.span));
                return;
            }
        },
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    match satisfies(PACKER_COMPAT_VERSION, &constraint) {
        Ok(true) => {}
        Ok(false) => diags.push(
            Diagnostic::error(
                "Unsupported Packer version",
                format!("This template requires Packer {constraint}; bake speaks the language of Packer {PACKER_COMPAT_VERSION}."),
            )
            .at(attr.expr.span)
            .with_help("relax required_version if the template works with this version"),
        ),
        Err(e) => diags.push(Diagnostic::error("Invalid required_version", e).at(attr.expr.span)),
    }
}

/// `NAME = { source = "github.com/hashicorp/NAME", version = ">= 1.0" }`:
/// bake installs nothing, but a malformed requirement is still an error, as
/// `packer init` and `packer validate` make it.
fn check_required_plugin(plugin: &Attribute, ev: &Evaluator, diags: &mut Diagnostics) {
    let value = match ev.eval(&plugin.expr) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    let Some(fields) = value.as_object() else {
        diags.push(
            Diagnostic::error("Invalid plugin requirement", format!("required_plugins.{} must be an object with source and version.", plugin.name))
                .at(plugin.expr.span)
                .with_help(format!("write {} = {{ source = \"github.com/hashicorp/{}\", version = \">= 1.0.0\" }}", plugin.name, plugin.name)),
        );
        return;
    };
    let at = |key: &str| item_span(&plugin.expr, key).unwrap_or(plugin.expr.span);
    match fields.get("source").and_then(Value::as_str) {
        None => diags.push(
            Diagnostic::error("Missing plugin source", format!("required_plugins.{} has no source address.", plugin.name))
                .at(plugin.expr.span)
                .with_help(format!("add source = \"github.com/hashicorp/{}\"", plugin.name)),
        ),
        Some(source) if !is_plugin_source(source) => diags.push(
            Diagnostic::error("Invalid plugin source", format!("\"{source}\" is not a plugin source address: it must be HOSTNAME/NAMESPACE/NAME."))
                .at(at("source"))
                .with_help(format!("for example source = \"github.com/hashicorp/{}\"", source.rsplit('/').next().unwrap_or(&plugin.name))),
        ),
        Some(_) => {}
    }
    if let Some(version) = fields.get("version").and_then(Value::as_str) {
        if let Err(e) = satisfies("0.0.0", version) {
            diags.push(Diagnostic::error("Invalid plugin version", e).at(at("version")));
        }
    }
}

/// Packer's plugin source addresses: a hostname, then at least a namespace
/// and a name (`github.com/hashicorp/amazon`, `example.com/org/team/name`),
/// none of them empty.
fn is_plugin_source(source: &str) -> bool {
    let parts: Vec<&str> = source.split('/').collect();
    parts.len() >= 3
        && parts.len() <= 16
        && parts[0].contains('.')
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
}

/// The span of the value of `key` in an object written out (`{ key = … }`).
fn item_span(expr: &Expr, key: &str) -> Option<bake_lang::Span> {
    let ExprKind::Object(items) = &expr.kind else { return None };
    items.iter().find_map(|(k, v)| {
        let name = match k {
            ObjectKey::Ident(name, _) => name.as_str(),
            ObjectKey::Expr(Expr { kind: ExprKind::Literal(Value::String(s)), .. }) => s.as_str(),
            ObjectKey::Expr(_) => return None,
        };
        (name == key).then_some(v.span)
    })
}

/// Checks a version against a constraint list like `">= 1.7, < 2.0"` or
/// `"~> 1.9.0"` (Go's hashicorp/go-version rules).
pub fn satisfies(version: &str, constraints: &str) -> Result<bool, String> {
    let v = parse_version(version).ok_or_else(|| format!("\"{version}\" is not a version"))?;
    for c in constraints.split(',') {
        let c = c.trim();
        let (op, rest) = ["~>", ">=", "<=", "!=", "=", ">", "<"].iter().find_map(|op| c.strip_prefix(op).map(|r| (*op, r.trim()))).unwrap_or(("=", c));
        let want = parse_version(rest).ok_or_else(|| format!("\"{c}\" is not a version constraint; write e.g. \">= 1.7.0\""))?;
        let parts = rest.split('.').count();
        let ok = match op {
            "=" => v == want,
            "!=" => v != want,
            ">" => v > want,
            ">=" => v >= want,
            "<" => v < want,
            "<=" => v <= want,
            // ~> 1.9.0 allows 1.9.x; ~> 1.9 allows 1.x from 1.9.
            "~>" => {
                let upper = if parts >= 3 { [want[0], want[1].saturating_add(1), 0] } else { [want[0].saturating_add(1), 0, 0] };
                v >= want && v < upper
            }
            _ => unreachable!("operators listed above"),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse_version(s: &str) -> Option<[u64; 3]> {
    let s = s.trim().trim_start_matches('v');
    let core = s.split(['-', '+']).next()?;
    let mut out = [0; 3];
    for (i, p) in core.split('.').enumerate() {
        if i >= 3 {
            return None;
        }
        out[i] = p.parse().ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn version_constraints() {
        assert!(satisfies("1.11.2", ">= 1.7.0").unwrap());
        assert!(satisfies("1.11.2", ">= 1.7.0, < 2.0.0").unwrap());
        assert!(!satisfies("1.11.2", ">= 1.12").unwrap());
        assert!(satisfies("1.11.2", "~> 1.11.0").unwrap());
        assert!(!satisfies("1.11.2", "~> 1.10.0").unwrap());
        assert!(satisfies("1.11.2", "~> 1.9").unwrap());
        assert!(satisfies("1.11.2", "1.11.2").unwrap());
        assert!(satisfies("1.11.2", "banana").is_err());
        // The largest numbers do not overflow the upper bound of ~>.
        assert!(!satisfies("1.11.2", "~> 1.18446744073709551615.0").unwrap());
        assert!(!satisfies("1.11.2", "~> 18446744073709551615.0").unwrap());
    }
}
