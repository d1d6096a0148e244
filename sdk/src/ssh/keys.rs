//! Private keys and certificates: reading the user's, and making throwaway
//! keys.

use super::{PrivateKeySource, SshError};
use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, Certificate, PrivateKey};
use std::path::Path;

/// Reads and decodes a private key, with an error that says what to do.
pub(crate) fn load(source: &PrivateKeySource) -> Result<PrivateKey, SshError> {
    let (name, text) = match source {
        PrivateKeySource::File(path) => {
            let name = path.display().to_string();
            let text = std::fs::read(path).map_err(|e| {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => "the file does not exist".to_string(),
                    std::io::ErrorKind::PermissionDenied => "the file cannot be read: permission denied".to_string(),
                    _ => format!("the file cannot be read: {e}"),
                };
                SshError::PrivateKey { source_name: name.clone(), reason }
            })?;
            (name, String::from_utf8_lossy(&text).into_owned())
        }
        PrivateKeySource::Text(text) => ("(given as text)".to_string(), text.clone()),
    };
    decode(&text).map_err(|reason| SshError::PrivateKey { source_name: name, reason })
}

/// Whether the key file can be used: for checking a configuration early.
pub fn check_private_key(path: &Path) -> Result<(), SshError> {
    load(&PrivateKeySource::File(path.to_path_buf())).map(|_| ())
}

/// Reads an OpenSSH certificate (`ssh-keygen -s` output, `KEY-cert.pub`)
/// and checks that it certifies `key`.
pub(crate) fn load_certificate(path: &Path, key: &PrivateKey) -> Result<Certificate, SshError> {
    let fail = |reason: String| SshError::PrivateKey { source_name: format!("certificate {}", path.display()), reason };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("the file cannot be read: {e}")))?;
    let cert = Certificate::from_openssh(text.trim()).map_err(|e| fail(format!("not an OpenSSH certificate (ssh-keygen -s makes one): {e}")))?;
    if cert.public_key() != key.public_key().key_data() {
        return Err(fail("it certifies another key than the private key given with it".to_string()));
    }
    Ok(cert)
}

/// Whether the certificate file can be used with the key file.
pub fn check_certificate(key: &Path, certificate: &Path) -> Result<(), SshError> {
    let key = load(&PrivateKeySource::File(key.to_path_buf()))?;
    load_certificate(certificate, &key).map(|_| ())
}

fn decode(text: &str) -> Result<PrivateKey, String> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err("the key is empty".to_string());
    }
    if trimmed.starts_with("ssh-") || trimmed.starts_with("ecdsa-sha2-") {
        return Err("this is a public key; give the private half (the file without .pub)".to_string());
    }
    russh::keys::decode_secret_key(text, None).map_err(|e| match e {
        russh::keys::Error::KeyIsEncrypted => {
            "the key is encrypted with a passphrase, which bake cannot ask for; use an unencrypted copy (ssh-keygen -p -N '' -f COPY)".to_string()
        }
        other => format!("not a private key bake can read (OpenSSH, PKCS#1 or PKCS#8 PEM): {other}"),
    })
}

/// Makes a fresh ed25519 key pair: the private key in OpenSSH format and the
/// public key as an `authorized_keys` line with the comment `bake`.
pub fn generate_ed25519() -> anyhow::Result<(String, String)> {
    let mut key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)?;
    key.set_comment("bake");
    let private = key.to_openssh(LineEnding::LF)?.to_string();
    let public = key.public_key().to_openssh()?;
    Ok((private, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_decode() {
        let (private, public) = generate_ed25519().unwrap();
        assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"), "{private}");
        assert!(public.starts_with("ssh-ed25519 AAAA") && public.ends_with(" bake"), "{public}");
        let key = decode(&private).unwrap();
        assert_eq!(key.public_key().to_openssh().unwrap(), public);
    }

    #[test]
    fn clear_errors() {
        let (_, public) = generate_ed25519().unwrap();
        assert!(decode(&public).unwrap_err().contains("public key"));
        assert!(decode("").unwrap_err().contains("empty"));
        assert!(decode("garbage").unwrap_err().contains("not a private key"));
        let missing = load(&PrivateKeySource::File("/nonexistent/bake/key".into())).unwrap_err().to_string();
        assert!(missing.contains("/nonexistent/bake/key") && missing.contains("does not exist"), "{missing}");
    }
}
