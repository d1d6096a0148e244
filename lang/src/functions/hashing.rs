//! Hashing and identifier functions: hex digests of a string's UTF-8 bytes,
//! bcrypt password hashes and UUIDs.

use super::string::{int_arg, string_arg};
use super::{arity, FuncContext, FuncError, FuncResult};
use crate::value::Value;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use uuid::Uuid;

pub const NAMES: &[&str] = &["bcrypt", "md5", "sha1", "sha256", "sha512", "uuidv4", "uuidv5"];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    match name {
        "md5" => digest::<Md5>(name, args),
        "sha1" => digest::<Sha1>(name, args),
        "sha256" => digest::<Sha256>(name, args),
        "sha512" => digest::<Sha512>(name, args),
        "bcrypt" => bcrypt_hash(name, args),
        "uuidv4" => {
            arity(name, args, 0, Some(0))?;
            Ok(Value::String(Uuid::new_v4().to_string()))
        }
        "uuidv5" => uuidv5(name, args),
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

/// The lowercase hex digest of the string's UTF-8 bytes.
fn digest<D: Digest>(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, Some(1))?;
    let input = string_arg(args, 0, "str")?;
    let hash = D::digest(input.as_bytes());
    Ok(Value::String(hash.iter().map(|b| format!("{b:02x}")).collect()))
}

/// A `$2a$` bcrypt hash with a random salt, as Go's x/crypto produces:
/// costs below 4 fall back to the default of 10, and passwords longer than
/// 72 bytes are refused rather than truncated.
fn bcrypt_hash(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, Some(2))?;
    let password = string_arg(args, 0, "str")?;
    let cost = if args.len() > 1 { int_arg(args, 1, "cost")? } else { 10 };
    let cost = if cost < 4 { 10 } else { cost };
    let failed = |detail: String| FuncError::new(format!("error occured generating password {detail}"));
    if cost > 31 {
        return Err(failed(format!("crypto/bcrypt: cost {cost} is outside allowed range (4,31)")));
    }
    if password.len() > 72 {
        return Err(failed("bcrypt: password length exceeds 72 bytes".to_string()));
    }
    let parts = bcrypt::hash_with_result(password.as_bytes(), cost as u32).map_err(|e| failed(e.to_string()))?;
    Ok(Value::String(parts.format_for_version(bcrypt::Version::TwoA)))
}

/// A name-based (SHA-1) UUID. The namespace is "dns", "url", "oid", "x500"
/// or any UUID in the usual textual forms.
fn uuidv5(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let namespace = string_arg(args, 0, "namespace")?;
    let id = string_arg(args, 1, "name")?;
    let ns = match namespace.as_str() {
        "dns" => Uuid::NAMESPACE_DNS,
        "url" => Uuid::NAMESPACE_URL,
        "oid" => Uuid::NAMESPACE_OID,
        "x500" => Uuid::NAMESPACE_X500,
        other => Uuid::parse_str(other).map_err(|_| {
            let reason = match other.len() {
                32 | 36 | 38 | 45 => "invalid UUID format".to_string(),
                n => format!("invalid UUID length: {n}"),
            };
            FuncError::arg(0, format!("uuidv5() doesn't support namespace {other} ({reason})"))
        })?,
    };
    Ok(Value::String(Uuid::new_v5(&ns, id.as_bytes()).to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::string::testutil::{err, n, ok, s};
    use super::*;

    #[test]
    fn digests() {
        assert_eq!(ok("md5", vec![s("hello world")]), s("5eb63bbbe01eeed093cb22bb8f5acdc3"));
        assert_eq!(ok("sha1", vec![s("hello world")]), s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"));
        assert_eq!(ok("sha256", vec![s("hello world")]), s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"));
        assert_eq!(
            ok("sha512", vec![s("hello world")]),
            s("309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f")
        );
        assert_eq!(ok("md5", vec![s("")]), s("d41d8cd98f00b204e9800998ecf8427e"));
        assert_eq!(ok("sha1", vec![n(1.0)]), s("356a192b7913b04c54574d18c28d46e6395428ab"));
    }

    #[test]
    fn bcrypt_hashes_verify() {
        let Value::String(hash) = ok("bcrypt", vec![s("hello world"), n(4.0)]) else { panic!() };
        assert!(hash.starts_with("$2a$04$"), "{hash}");
        assert_eq!(hash.len(), 60);
        assert!(bcrypt::verify("hello world", &hash).unwrap());
        let Value::String(default_cost) = ok("bcrypt", vec![s("pw"), n(1.0)]) else { panic!() };
        assert!(default_cost.starts_with("$2a$10$"));
        assert!(err("bcrypt", vec![s("pw"), n(32.0)]).contains("cost 32 is outside allowed range (4,31)"));
        assert!(err("bcrypt", vec![s(&"x".repeat(73)), n(4.0)]).contains("password length exceeds 72 bytes"));
    }

    #[test]
    fn uuids() {
        let Value::String(v4) = ok("uuidv4", vec![]) else { panic!() };
        let parsed = Uuid::parse_str(&v4).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(v4, v4.to_lowercase());
        assert_ne!(ok("uuidv4", vec![]), ok("uuidv4", vec![]));

        assert_eq!(ok("uuidv5", vec![s("dns"), s("www.terraform.io")]), s("a5008fae-b28c-5ba5-96cd-82b4c53552d6"));
        assert_eq!(ok("uuidv5", vec![s("url"), s("https://www.terraform.io/")]), s("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5"));
        assert_eq!(ok("uuidv5", vec![s("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), s("www.terraform.io")]), s("a5008fae-b28c-5ba5-96cd-82b4c53552d6"));
        assert_eq!(ok("uuidv5", vec![s("oid"), s("1.2.3")]), s(&Uuid::new_v5(&Uuid::NAMESPACE_OID, b"1.2.3").to_string()));
        assert_eq!(err("uuidv5", vec![s("bogus"), s("x")]), "uuidv5() doesn't support namespace bogus (invalid UUID length: 5)");
    }
}
