//! Packer's Go-template placeholders inside plugin strings (`{{ .Path }}`,
//! `{{.Vars}}`, `{{ .HTTPIP }}`, `{{ .BuildName }}` …). HCL leaves them alone;
//! plugins fill them in here, late, when the values exist.

use std::collections::BTreeMap;

/// Replaces `{{ .Name }}` with `values["Name"]`. An unknown placeholder is an
/// error naming it and the ones available, so a typo is caught.
pub fn render(text: &str, values: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("unclosed \"{{{{\" in \"{text}\""));
        };
        let inner = after[..end].trim().trim_start_matches('-').trim_end_matches('-').trim();
        let name = inner.strip_prefix('.').unwrap_or(inner);
        match values.get(name) {
            Some(v) => out.push_str(v),
            None => {
                let known: Vec<String> = values.keys().map(|k| format!("{{{{ .{k} }}}}")).collect();
                return Err(format!(
                    "unknown placeholder \"{{{{ {inner} }}}}\"; available here: {}",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_placeholders_in_any_spacing() {
        let values = BTreeMap::from([("Path", "/tmp/s.sh".to_string()), ("Vars", "A=1".to_string())]);
        assert_eq!(render("chmod +x {{ .Path }}; {{.Vars}} {{ .Path }}", &values).unwrap(), "chmod +x /tmp/s.sh; A=1 /tmp/s.sh");
        assert_eq!(render("no placeholders", &values).unwrap(), "no placeholders");
        let err = render("{{ .Pth }}", &values).unwrap_err();
        assert!(err.contains("{{ .Pth }}") && err.contains("{{ .Path }}"), "{err}");
    }
}
