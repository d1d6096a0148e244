//! What the shell-style provisioners (`shell`, `shell-local`) share: Packer's
//! rules for environment variables and inline scripts.

use std::collections::BTreeMap;

/// Checks one `environment_vars` entry: Packer requires `NAME=VALUE` with a
/// non-empty name.
pub fn check_environment_var(entry: &str) -> Result<(), String> {
    match entry.split_once('=') {
        Some((name, _)) if !name.is_empty() => Ok(()),
        _ => Err(format!("\"{entry}\" is not of the form NAME=VALUE.")),
    }
}

/// The environment a script sees: `base` (Packer's `PACKER_*` values), then
/// `environment_vars`, then `env`, later ones winning.
pub fn environment(base: BTreeMap<String, String>, environment_vars: &[String], env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut all = base;
    for entry in environment_vars {
        if let Some((name, value)) = entry.split_once('=') {
            all.insert(name.to_string(), value.to_string());
        }
    }
    all.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// Renders the environment with Packer's `env_var_format` (two `%s`: the
/// name, then the value), quoting single quotes in values as Packer does so
/// that `'%s'` stays one shell word.
pub fn render_vars(format: &str, env: &BTreeMap<String, String>) -> String {
    env.iter().map(|(name, value)| format.replacen("%s", name, 1).replacen("%s", &value.replace('\'', "'\"'\"'"), 1)).collect()
}

/// The script Packer makes of `inline` commands: a shebang line, then one
/// command per line.
pub fn inline_script(shebang: &str, lines: &[String]) -> String {
    let mut text = format!("#!{shebang}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_are_quoted_and_ordered() {
        let env = environment(
            BTreeMap::from([("PACKER_BUILD_NAME".to_string(), "web".to_string())]),
            &["B=it's".to_string(), "A=1=2".to_string()],
            &BTreeMap::from([("A".to_string(), "env wins".to_string())]),
        );
        assert_eq!(render_vars("%s='%s' ", &env), "A='env wins' B='it'\"'\"'s' PACKER_BUILD_NAME='web' ");
        assert_eq!(render_vars("export %s='%s'\n", &env).lines().count(), 3);
    }

    #[test]
    fn environment_var_entries_need_a_name() {
        assert!(check_environment_var("A=").is_ok());
        assert!(check_environment_var("=x").is_err());
        assert!(check_environment_var("nothing").is_err());
    }

    #[test]
    fn inline_script_has_shebang() {
        assert_eq!(inline_script("/bin/sh -e", &["echo hi".into(), "true".into()]), "#!/bin/sh -e\necho hi\ntrue\n");
    }
}
