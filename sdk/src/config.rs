//! Decodes a plugin's evaluated configuration into its Rust struct with serde.
//!
//! A plugin writes `#[derive(Deserialize)] #[serde(deny_unknown_fields)]` on
//! its config struct and calls [`decode`]. Every error comes back as a
//! diagnostic at the attribute it is about; an unknown key suggests the
//! closest known one. Values convert as HCL converts them (`"10"` is a fine
//! number, `8` a fine string), and nested blocks decode as lists of structs.

use bake_lang::diag::{suggest, Diagnostic, Diagnostics};
use bake_lang::eval::{EvalAttr, EvalBlock, EvalBody};
use bake_lang::number::Number;
use bake_lang::value::Value;
use bake_lang::Span;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Decodes `body` into `T`. `what` names the thing being configured, such as
/// `source "qemu.web"`, for messages about missing arguments.
pub fn decode<T: DeserializeOwned>(body: &EvalBody, what: &str) -> Result<T, Diagnostics> {
    decode_part(body, what, &[])
}

/// Decodes `body`, the part of a larger body that `T` is for (see
/// [`crate::communicator::config`], which takes its keys out first). An
/// unknown key is compared with `T`'s fields and with `also_known`, the keys
/// of the other parts, so that "did you mean" still finds the closest key of
/// the whole.
pub fn decode_part<T: DeserializeOwned>(body: &EvalBody, what: &str, also_known: &[&'static str]) -> Result<T, Diagnostics> {
    T::deserialize(BodyDe { body }).map_err(|mut e| {
        if let Some((_, known)) = &mut e.unknown {
            known.extend_from_slice(also_known);
        }
        Diagnostics::from(e.into_diagnostic(body.span, what))
    })
}

/// Decodes a body that embeds a group of options several plugins share
/// (the communicator's, AWS access): the attributes named in `group_keys` go
/// to `decode_group`, the others into `T`, whose unknown keys are compared
/// with the group's too. Every problem of both parts is reported.
pub fn decode_with_group<T: DeserializeOwned, G>(
    body: &EvalBody,
    what: &str,
    group_keys: &'static [&'static str],
    decode_group: impl FnOnce(&EvalBody) -> Result<G, Diagnostics>,
) -> Result<(T, G), Diagnostics> {
    decode_split(body, group_keys, decode_group, |rest| decode_part::<T>(rest, what, group_keys))
}

/// The general form of [`decode_with_group`], for a body that embeds more
/// than one group (amazon-ebs: AWS access and the communicator): the rest
/// goes to `decode_rest`, which may split it again. Every problem of both
/// parts is reported.
pub fn decode_split<R, G>(
    body: &EvalBody,
    group_keys: &[&str],
    decode_group: impl FnOnce(&EvalBody) -> Result<G, Diagnostics>,
    decode_rest: impl FnOnce(&EvalBody) -> Result<R, Diagnostics>,
) -> Result<(R, G), Diagnostics> {
    let (group, rest) = split(body, group_keys);
    match (decode_rest(&rest), decode_group(&group)) {
        (Ok(r), Ok(g)) => Ok((r, g)),
        (r, g) => {
            let mut diags = Diagnostics::new();
            for d in [r.err(), g.err()].into_iter().flatten() {
                diags.extend(d);
            }
            Err(diags)
        }
    }
}

/// Where `key` is set in `body` (its attribute, or its first block), for a
/// diagnostic about it; the body's own span when it is not set.
pub fn span_of(body: &EvalBody, key: &str) -> Span {
    body.attributes.get(key).map(|a| a.span).or_else(|| body.blocks.iter().find(|b| b.kind == key).map(|b| b.span)).unwrap_or(body.span)
}

/// Splits `body` into (the attributes and blocks named in `keys`, everything else).
fn split(body: &EvalBody, keys: &[&str]) -> (EvalBody, EvalBody) {
    let mine = |name: &str| keys.contains(&name);
    let ours = EvalBody {
        attributes: body.attributes.iter().filter(|(name, _)| mine(name)).map(|(n, a)| (n.clone(), a.clone())).collect(),
        blocks: body.blocks.iter().filter(|b| mine(&b.kind)).cloned().collect(),
        span: body.span,
    };
    let rest = EvalBody {
        attributes: body.attributes.iter().filter(|(name, _)| !mine(name)).map(|(n, a)| (n.clone(), a.clone())).collect(),
        blocks: body.blocks.iter().filter(|b| !mine(&b.kind)).cloned().collect(),
        span: body.span,
    };
    (ours, rest)
}

/// The field names of a `#[derive(Deserialize)]` struct, as serde spells
/// them, so that a list of keys is never written twice.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Fields(Option<&'static [&'static str]>);
    impl<'de> de::Deserializer<'de> for &mut Fields {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> Result<V::Value, Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("fields recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(None);
    let _ = T::deserialize(&mut fields);
    fields.0.unwrap_or(&[])
}

/// A decoding error, with the span it is about once known.
#[derive(Debug)]
pub struct Error {
    message: String,
    span: Option<Span>,
    unknown: Option<(String, Vec<&'static str>)>,
    missing: Option<String>,
    /// The argument whose value is wrong.
    argument: Option<String>,
    /// The unknown name is that of a block, not of an argument.
    unknown_is_block: bool,
}

impl Error {
    fn new(message: String, span: Option<Span>) -> Error {
        Error { message, span, unknown: None, missing: None, argument: None, unknown_is_block: false }
    }

    /// Names the argument a value error is about (once, at the outermost level).
    fn in_argument(mut self, name: &str) -> Error {
        if self.argument.is_none() {
            self.argument = Some(name.to_string());
        }
        self
    }

    fn at_if_unset(mut self, span: Span) -> Error {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    fn into_diagnostic(self, body_span: Span, what: &str) -> Diagnostic {
        if let Some((name, known)) = self.unknown {
            let mut d = if self.unknown_is_block {
                Diagnostic::error("Unsupported block type", format!("Blocks of type \"{name}\" are not expected in {what}."))
            } else {
                Diagnostic::error("Unsupported argument", format!("An argument named \"{name}\" is not expected in {what}."))
            }
            .at(self.span.unwrap_or(body_span));
            d = match suggest(&name, known.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                None if known.len() <= 12 => d.with_help(format!("the arguments accepted here are: {}", known.join(", "))),
                None => d,
            };
            return d;
        }
        if let Some(field) = self.missing {
            return Diagnostic::error("Missing required argument", format!("The argument \"{field}\" is required in {what}, but was not set."))
                .at(self.span.unwrap_or(body_span));
        }
        let detail = match &self.argument {
            Some(arg) => format!("Invalid value for \"{arg}\" in {what}: {}.", self.message),
            None => format!("{} (in {what})", self.message),
        };
        Diagnostic::error("Invalid value", detail).at(self.span.unwrap_or(body_span))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(msg.to_string(), None)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Error {
        Error { unknown: Some((field.to_string(), expected.to_vec())), ..Error::new(format!("unknown argument \"{field}\""), None) }
    }

    fn missing_field(field: &'static str) -> Error {
        Error { missing: Some(field.to_string()), ..Error::new(format!("missing argument \"{field}\""), None) }
    }

    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Error {
        de::Error::custom(format_args!("expected {exp}, but found {}", describe_unexpected(unexp)))
    }
}

fn describe_unexpected(u: de::Unexpected) -> String {
    match u {
        de::Unexpected::Str(s) => format!("the string \"{s}\""),
        de::Unexpected::Map => "an object".to_string(),
        de::Unexpected::Seq => "a list".to_string(),
        de::Unexpected::Unit => "null".to_string(),
        other => other.to_string(),
    }
}

/// A body is a map: attributes by name, and blocks of one kind as a list.
struct BodyDe<'a> {
    body: &'a EvalBody,
}

enum Entry<'a> {
    Attr(&'a EvalAttr),
    Blocks(Vec<&'a EvalBlock>),
}

impl<'de, 'a> de::Deserializer<'de> for BodyDe<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mut entries: Vec<(&'a str, Span, Entry<'a>)> = Vec::new();
        for (name, attr) in &self.body.attributes {
            entries.push((name.as_str(), attr.name_span, Entry::Attr(attr)));
        }
        for block in &self.body.blocks {
            match entries.iter_mut().find(|(n, _, e)| *n == block.kind && matches!(e, Entry::Blocks(_))) {
                Some((_, _, Entry::Blocks(list))) => list.push(block),
                _ => entries.push((block.kind.as_str(), block.span, Entry::Blocks(vec![block]))),
            }
        }
        visitor.visit_map(BodyMap { entries: entries.into_iter(), current: None })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct BodyMap<'a, I> {
    entries: I,
    current: Option<(&'a str, Span, Entry<'a>)>,
}

impl<'de, 'a, I: Iterator<Item = (&'a str, Span, Entry<'a>)>> MapAccess<'de> for BodyMap<'a, I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            None => Ok(None),
            Some((name, span, entry)) => {
                let block = matches!(entry, Entry::Blocks(_));
                self.current = Some((name, span, entry));
                seed.deserialize(name.into_deserializer()).map(Some).map_err(|mut e: Error| {
                    e.unknown_is_block = block;
                    e.at_if_unset(span)
                })
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (name, span, entry) = self.current.take().expect("value after key");
        match entry {
            Entry::Attr(attr) => seed.deserialize(ValueDe::new(&attr.value, attr.span)).map_err(|e| e.in_argument(name)),
            Entry::Blocks(blocks) => seed.deserialize(BlocksDe { blocks }).map_err(|e| e.at_if_unset(span)),
        }
    }
}

struct BlocksDe<'a> {
    blocks: Vec<&'a EvalBlock>,
}

impl<'de, 'a> de::Deserializer<'de> for BlocksDe<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(Items { items: self.blocks.into_iter().map(|b| BodyDe { body: &b.body }) })
    }

    /// A field that is a single struct (not a list) takes the last block.
    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        match self.blocks.last() {
            Some(b) => BodyDe { body: &b.body }.deserialize_any(visitor).map_err(|e| e.at_if_unset(b.span)),
            None => visitor.visit_unit(),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_struct("", &[], visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct enum identifier ignored_any
    }
}

struct Items<I> {
    items: I,
}

impl<'de, D: de::Deserializer<'de, Error = Error>, I: Iterator<Item = D>> SeqAccess<'de> for Items<I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        self.items.next().map(|d| seed.deserialize(d)).transpose()
    }
}

/// One evaluated value; errors inside it point at the attribute's expression.
#[derive(Clone, Copy)]
struct ValueDe<'a> {
    value: &'a Value,
    span: Span,
    /// An object taken as a list of one block: when a scalar is wanted
    /// instead, the mistake is that no list was given.
    as_block: bool,
}

impl<'a> ValueDe<'a> {
    fn new(value: &'a Value, span: Span) -> ValueDe<'a> {
        ValueDe { value, span, as_block: false }
    }

    fn error(&self, message: String) -> Error {
        if self.as_block {
            return Error::new("a list is required, but this is an object".to_string(), Some(self.span));
        }
        Error::new(message, Some(self.span))
    }

    fn number(&self) -> Result<Number, Error> {
        let unsuitable = |s: &str| self.error(format!("a number is required, but this is the string \"{s}\""));
        match self.value {
            Value::Number(n) => Ok(n.clone()),
            Value::String(s) => match Number::parse(s.trim()) {
                Some(Ok(n)) => Ok(n),
                Some(Err(e)) => Err(self.error(e.to_string())),
                None => Err(unsuitable(s)),
            },
            other => Err(self.error(format!("a number is required, but this is {}", describe(other)))),
        }
    }

    /// A whole number, exactly: any `i64` or `u64`.
    fn whole(&self) -> Result<i128, Error> {
        let n = self.number()?;
        if !n.is_integer() {
            return Err(self.error(format!("a whole number is required, but this is {n}")));
        }
        n.to_i64().map(i128::from).or_else(|| n.to_u64().map(i128::from)).ok_or_else(|| self.error(format!("{n} is out of range here")))
    }
}

macro_rules! whole_number {
    ($($method:ident => $visit:ident as $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let n = self.whole()?;
            let n = <$ty>::try_from(n).map_err(|_| self.error(format!("{n} is out of range here")))?;
            visitor.$visit(n)
        }
    )*};
}

impl<'de, 'a> de::Deserializer<'de> for ValueDe<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.span;
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.to_i64(), n.to_u64()) {
                (Some(i), _) => visitor.visit_i64(i),
                (None, Some(u)) => visitor.visit_u64(u),
                _ => visitor.visit_f64(n.to_f64()),
            },
            Value::String(s) => visitor.visit_str(s),
            Value::List(items) => visitor.visit_seq(Items { items: items.iter().map(|v| ValueDe::new(v, span)) }),
            Value::Object(map) => visitor.visit_map(ObjectMap { entries: map.iter(), current: None, span }),
        };
        result.map_err(|e| e.at_if_unset(span))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::String(s) if s == "true" => visitor.visit_bool(true),
            Value::String(s) if s == "false" => visitor.visit_bool(false),
            other => Err(self.error(format!("a bool is required, but this is {}", describe(other)))),
        }
    }

    whole_number! {
        deserialize_i8 => visit_i8 as i8, deserialize_i16 => visit_i16 as i16,
        deserialize_i32 => visit_i32 as i32, deserialize_i64 => visit_i64 as i64,
        deserialize_u8 => visit_u8 as u8, deserialize_u16 => visit_u16 as u16,
        deserialize_u32 => visit_u32 as u32, deserialize_u64 => visit_u64 as u64,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f32(self.number()?.to_f64() as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(self.number()?.to_f64())
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value.to_string_lossless() {
            Some(s) => visitor.visit_string(s),
            None => Err(self.error(format!("a string is required, but this is {}", describe(self.value)))),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::List(_) => self.deserialize_any(visitor),
            // A single object where a list of blocks is expected (HCL JSON, or
            // an attribute written in place of one block).
            Value::Object(_) => visitor.visit_seq(Items { items: std::iter::once(ValueDe { as_block: true, ..self }) }).map_err(|e| e.at_if_unset(self.span)),
            other => Err(self.error(format!("a list is required, but this is {}", describe(other)))),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(self.error(format!("an object is required, but this is {}", describe(other)))),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        match self.value {
            // The last block wins where one was expected and a list was given.
            Value::List(items) if items.iter().all(|v| matches!(v, Value::Object(_))) && !items.is_empty() => {
                ValueDe::new(items.last().expect("non-empty"), self.span).deserialize_map(visitor)
            }
            _ => self.deserialize_map(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        match self.value.to_string_lossless() {
            Some(s) => visitor.visit_enum(s.into_deserializer()).map_err(|e: Error| e.at_if_unset(self.span)),
            None => Err(self.error(format!("a string is required, but this is {}", describe(self.value)))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 bytes byte_buf unit unit_struct tuple tuple_struct identifier ignored_any
    }
}

struct ObjectMap<'a, I> {
    entries: I,
    current: Option<&'a Value>,
    span: Span,
}

impl<'de, 'a, I: Iterator<Item = (&'a String, &'a Value)>> MapAccess<'de> for ObjectMap<'a, I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.current = Some(v);
                seed.deserialize(k.as_str().into_deserializer()).map(Some).map_err(|e: Error| e.at_if_unset(self.span))
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(ValueDe::new(self.current.take().expect("value after key"), self.span))
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => format!("the string \"{s}\""),
        Value::Object(_) => "an object".to_string(),
        other => format!("a {}", other.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bake_lang::eval::Evaluator;
    use bake_lang::parse::parse_file;
    use bake_lang::SourceMap;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Disk {
        size: u64,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Config {
        disk_size: u64,
        #[serde(default)]
        headless: bool,
        name: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        disk: Vec<Disk>,
    }

    fn decode_src(src: &str) -> Result<Config, String> {
        let sources = SourceMap::new();
        let file = sources.add("c.pkr.hcl", src);
        let body = parse_file(&sources, file).unwrap();
        let ev = Evaluator::new(sources.clone(), std::env::temp_dir(), std::time::SystemTime::UNIX_EPOCH);
        let body = ev.eval_body(&body).unwrap();
        decode(&body, "source \"qemu.x\"").map_err(|d| d.render(&sources))
    }

    #[test]
    fn decodes_with_hcl_conversions_and_blocks() {
        let c = decode_src("disk_size = \"2048\"\nheadless = \"true\"\nname = 5\ntags = [\"a\", 1]\ndisk { size = 1 }\ndisk { size = 2 }\n").unwrap();
        assert_eq!(
            c,
            Config {
                disk_size: 2048,
                headless: true,
                name: Some("5".into()),
                tags: vec!["a".into(), "1".into()],
                disk: vec![Disk { size: 1 }, Disk { size: 2 }],
            }
        );
    }

    #[test]
    fn unknown_key_points_at_it_and_suggests() {
        let err = decode_src("disk_size = 1\ndisk_sise = 2\n").unwrap_err();
        assert!(err.contains("c.pkr.hcl:2:1"), "{err}");
        assert!(err.contains("did you mean \"disk_size\"?"), "{err}");
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let err = decode_src("disk_size = \"big\"\n").unwrap_err();
        assert!(err.contains("c.pkr.hcl:1:13") && err.contains("a number is required"), "{err}");
        let err = decode_src("headless = true\n").unwrap_err();
        assert!(err.contains("\"disk_size\" is required"), "{err}");
        let err = decode_src("disk_size = 1\ndisk {\n size = 1\n nope = 2\n}\n").unwrap_err();
        assert!(err.contains("c.pkr.hcl:4:2") && err.contains("\"nope\""), "{err}");
    }
}
