//! The JSON files that several builds, in this bake or another, update at
//! once (the manifest, Terraform's variables file): a locked
//! read-modify-rename so that no writer loses another's change, and the
//! masking of secrets in what is written.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// Reads the JSON file at `path` (or `empty` when it does not exist), lets
/// `change` edit it, and writes it back through a temp file renamed into
/// place, all under an exclusive lock on its directory, so that concurrent
/// writers (builds in this process or another bake) never lose each other's
/// changes. `what` names the file in errors ("manifest").
pub fn update_json_locked(path: &Path, what: &str, empty: Json, change: impl FnOnce(&mut Json)) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::File::open(&dir)?;
    lock.lock()?;
    let mut doc: Json = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the existing {what} {} is not valid JSON ({e}); move it away or fix it", path.display()))?,
        _ => empty,
    };
    change(&mut doc);
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().map_or("bake".into(), |n| n.to_string_lossy()), std::process::id()));
    std::fs::write(&tmp, serde_json::to_string_pretty(&doc)? + "\n")?;
    std::fs::rename(&tmp, path)?;
    lock.unlock()?;
    Ok(())
}

/// Replaces every string in `v` (at any depth) by `mask` of it: sensitive
/// values never reach a file that a plugin writes (pass `|s| ui.mask(s)`).
pub fn mask_strings(v: &mut Json, mask: &dyn Fn(&str) -> String) {
    match v {
        Json::String(s) => *s = mask(s),
        Json::Array(items) => items.iter_mut().for_each(|i| mask_strings(i, mask)),
        Json::Object(map) => map.values_mut().for_each(|i| mask_strings(i, mask)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn concurrent_updates_keep_every_change() {
        let dir = std::env::temp_dir().join(format!("bake-json-file-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("doc.json");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || update_json_locked(&path, "test file", json!({}), |doc| doc[format!("k{i}")] = json!(i)).unwrap())
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let doc: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(doc.as_object().unwrap().len(), 8);
        std::fs::write(&path, "{ not json").unwrap();
        let err = update_json_locked(&path, "test file", json!({}), |_| {}).unwrap_err().to_string();
        assert!(err.contains("the existing test file") && err.contains("not valid JSON"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_string_is_masked() {
        let mut v = json!({ "a": "secret", "b": ["x secret", 1], "c": { "d": "ok" } });
        mask_strings(&mut v, &|s| s.replace("secret", "<sensitive>"));
        assert_eq!(v, json!({ "a": "<sensitive>", "b": ["x <sensitive>", 1], "c": { "d": "ok" } }));
    }
}
