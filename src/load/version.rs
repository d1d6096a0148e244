//! The `packer {}` block: `required_version` is checked against the Packer
//! version bake is compatible with; `required_plugins` needs no installing.

use super::template::PackerBlock;
use super::PACKER_COMPAT_VERSION;
use bake_lang::diag::{Diagnostic, Diagnostics};
use bake_lang::eval::Evaluator;

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

/// Checks a version against a constraint list like `">= 1.7, < 2.0"` or
/// `"~> 1.9.0"` (Go's hashicorp/go-version rules).
pub fn satisfies(version: &str, constraints: &str) -> Result<bool, String> {
    let v = parse_version(version).ok_or_else(|| format!("\"{version}\" is not a version"))?;
    for c in constraints.split(',') {
        let c = c.trim();
        let (op, rest) = ["~>", ">=", "<=", "!=", "=", ">", "<"]
            .iter()
            .find_map(|op| c.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("=", c));
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
