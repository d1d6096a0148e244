//! Numeric functions, and the Go-style number formatting that `format`
//! and `%v` rely on.
//!
//! cty numbers are arbitrary-precision decimals printed by Go's math/big; we
//! hold them as f64 and format from their shortest round-trip decimal
//! digits, which agrees with cty for numbers written as literals (results of
//! inexact arithmetic can differ in the last digits).

use super::string::{int_arg, invalid_arg, number_arg, to_number};
use super::{arity, FuncContext, FuncError, FuncResult};
use crate::value::Value;

pub const NAMES: &[&str] = &["abs", "ceil", "floor", "log", "max", "min", "parseint", "pow", "signum"];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    match name {
        "abs" => unary(name, args, f64::abs),
        "ceil" => unary(name, args, f64::ceil),
        "floor" => unary(name, args, f64::floor),
        "signum" => unary(name, args, signum),
        "log" => {
            arity(name, args, 2, Some(2))?;
            let (num, base) = (number_arg(args, 0, "num")?, number_arg(args, 1, "base")?);
            finite_or_inf(num.ln() / base.ln())
        }
        "pow" => {
            arity(name, args, 2, Some(2))?;
            let (num, power) = (number_arg(args, 0, "num")?, number_arg(args, 1, "power")?);
            finite_or_inf(num.powf(power))
        }
        "max" => extreme(name, args, f64::max),
        "min" => extreme(name, args, f64::min),
        "parseint" => parseint(name, args),
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

fn unary(name: &str, args: &[Value], f: fn(f64) -> f64) -> FuncResult {
    arity(name, args, 1, Some(1))?;
    Ok(Value::Number(f(number_arg(args, 0, "num")?)))
}

/// cty's signum: zero stays zero, unlike f64::signum.
fn signum(n: f64) -> f64 {
    if n > 0.0 {
        1.0
    } else if n < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// cty numbers can be infinite but never NaN.
fn finite_or_inf(n: f64) -> FuncResult {
    if n.is_nan() {
        Err(FuncError::new("the result is not a number"))
    } else {
        Ok(Value::Number(n))
    }
}

fn extreme(name: &str, args: &[Value], pick: fn(f64, f64) -> f64) -> FuncResult {
    if args.is_empty() {
        return Err(FuncError::new(format!("function \"{name}\" must pass at least one number")));
    }
    let mut best: Option<f64> = None;
    for (i, arg) in args.iter().enumerate() {
        let n = to_number(arg).map_err(|msg| invalid_arg(i, "numbers", msg))?;
        best = Some(best.map_or(n, |b| pick(b, n)));
    }
    Ok(Value::Number(best.unwrap_or_default()))
}

/// cty's parseint: a string of digits in any base from 2 to 62, with an
/// optional sign. Up to base 36 letters are case-insensitive; above it the
/// lowercase letters come before the uppercase ones, as in Go's big.Int.
fn parseint(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let Value::String(text) = &args[0] else {
        return Err(FuncError::arg(0, format!("first argument must be a string, not {}", args[0].type_name())));
    };
    let base = int_arg(args, 1, "base")?;
    if !(2..=62).contains(&base) {
        return Err(FuncError::arg(1, "base must be a whole number between 2 and 62 inclusive"));
    }
    parse_int_in_base(text, base as u32).map(Value::Number).ok_or_else(|| {
        FuncError::arg(0, format!("cannot parse {} as a base {base} integer", super::string::go_quote(text)))
    })
}

fn parse_int_in_base(text: &str, base: u32) -> Option<f64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate exactly while we can, then in floating point.
    let mut exact: Option<u128> = Some(0);
    let mut approx = 0f64;
    for c in digits.chars() {
        let d = digit_value(c, base)?;
        exact = exact.and_then(|e| e.checked_mul(base as u128)?.checked_add(d as u128));
        approx = approx * base as f64 + d as f64;
    }
    let magnitude = exact.map_or(approx, |e| e as f64);
    Some(if negative { -magnitude } else { magnitude })
}

fn digit_value(c: char, base: u32) -> Option<u32> {
    let d = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (d < base).then_some(d)
}

// ---------------------------------------------------------------------------
// Go-style number formatting
// ---------------------------------------------------------------------------

/// A numeric verb with its flags, as `format` passes it on.
pub(crate) struct NumSpec {
    pub verb: char,
    pub plus: bool,
    pub space: bool,
    pub zero: bool,
    pub minus: bool,
    pub sharp: bool,
    pub width: Option<usize>,
    pub prec: Option<usize>,
}

/// A decimal `0.d1d2d3… × 10^exp` without trailing zeros, the form Go's
/// math/big rounds and prints numbers from. No digits means zero.
struct Decimal {
    digits: Vec<u8>,
    exp: i64,
}

impl Decimal {
    /// The shortest digits that read back as `n` (whose sign is ignored).
    fn shortest(n: f64) -> Decimal {
        let sci = format!("{:e}", n.abs()); // like "1.2345e3" or "0e0"
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        let exp = if digits.is_empty() { 0 } else { exp.parse::<i64>().unwrap_or(0) + 1 };
        Decimal { digits, exp }
    }

    /// The digit at position `i`, zero outside the stored digits.
    fn at(&self, i: i64) -> u8 {
        usize::try_from(i).ok().and_then(|i| self.digits.get(i).copied()).unwrap_or(b'0')
    }

    /// Rounds to `n` significant digits: to nearest, ties to even.
    fn round(&mut self, n: i64) {
        let Ok(n) = usize::try_from(n) else { return };
        if n >= self.digits.len() {
            return;
        }
        let half_exactly = self.digits[n] == b'5' && n + 1 == self.digits.len();
        let up = if half_exactly { n > 0 && (self.digits[n - 1] - b'0') % 2 == 1 } else { self.digits[n] >= b'5' };
        if up {
            self.round_up(n);
        } else {
            self.digits.truncate(n);
            self.trim();
        }
    }

    fn round_up(&mut self, mut n: usize) {
        while n > 0 && self.digits[n - 1] == b'9' {
            n -= 1;
        }
        if n == 0 {
            self.digits = vec![b'1'];
            self.exp += 1;
        } else {
            self.digits[n - 1] += 1;
            self.digits.truncate(n);
        }
    }

    fn trim(&mut self) {
        while self.digits.last() == Some(&b'0') {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.exp = 0;
        }
    }
}

/// `%e`: d.ddde±dd with `prec` fraction digits (none when negative).
fn fmt_e(out: &mut String, e: char, prec: i64, d: &Decimal) {
    out.push(d.digits.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(d.at(i) as char);
        }
    }
    out.push(e);
    let exp = if d.digits.is_empty() { 0 } else { d.exp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exp.abs()));
}

/// `%f`: ddd.ddd with `prec` fraction digits.
fn fmt_f(out: &mut String, prec: i64, d: &Decimal) {
    if d.exp > 0 {
        for i in 0..d.exp {
            out.push(d.at(i) as char);
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            out.push(d.at(d.exp + i) as char);
        }
    }
}

/// Writes the sign of `n`; returns true when `n` is infinite and fully
/// written, as Go prints "+Inf" and "-Inf".
fn push_sign_or_inf(out: &mut String, n: f64) -> bool {
    if n < 0.0 {
        out.push('-');
    }
    if n.is_infinite() {
        if n > 0.0 {
            out.push('+');
        }
        out.push_str("Inf");
    }
    n.is_infinite()
}

fn exponent_char(verb: char) -> char {
    if verb.is_ascii_uppercase() {
        'E'
    } else {
        'e'
    }
}

/// Go's big.Float text for verbs e, E, f, g and G at precision `prec`.
fn float_text(n: f64, verb: char, prec: usize) -> String {
    let mut out = String::new();
    if push_sign_or_inf(&mut out, n) {
        return out;
    }
    let mut d = Decimal::shortest(n);
    let p = prec as i64;
    match verb.to_ascii_lowercase() {
        'e' => {
            d.round(p + 1);
            fmt_e(&mut out, verb, p, &d);
        }
        'f' => {
            d.round(d.exp + p);
            fmt_f(&mut out, p, &d);
        }
        _ => {
            // %g: precision counts significant digits; trailing zeros go.
            let p = p.max(1);
            d.round(p);
            let digits = d.digits.len() as i64;
            let eprec = if p > digits && digits >= d.exp { digits } else { p };
            let exp = d.exp - 1;
            if exp < -4 || exp >= eprec {
                fmt_e(&mut out, exponent_char(verb), p.min(digits) - 1, &d);
            } else {
                let p = if p > d.exp { digits } else { p };
                fmt_f(&mut out, (p - d.exp).max(0), &d);
            }
        }
    }
    out
}

/// Applies sign flags and width the way big.Float's Formatter does.
fn pad_number(text: &str, spec: &NumSpec, infinite: bool) -> String {
    let (sign, body) = match text.as_bytes().first() {
        Some(b'-') => ("-", &text[1..]),
        Some(b'+') => (if spec.space { " " } else { "+" }, &text[1..]),
        _ if spec.plus => ("+", text),
        _ if spec.space => (" ", text),
        _ => ("", text),
    };
    let padding = spec.width.unwrap_or(0).saturating_sub(sign.len() + body.len());
    // Go's fmt drops the zero flag when `-` is present.
    if spec.zero && !spec.minus && !infinite {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else if spec.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

/// `%e %E %f %g %G` on a number. `%e` and `%f` default to six fraction
/// digits, `%g` to the shortest representation.
pub(crate) fn go_format_float(n: f64, spec: &NumSpec) -> String {
    let text = match (spec.prec, spec.verb) {
        (Some(p), verb) => float_text(n, verb, p),
        (None, 'e' | 'E' | 'f') => float_text(n, spec.verb, 6),
        (None, verb) => shortest_g(n, verb),
    };
    pad_number(&text, spec, n.is_infinite())
}

/// The default text of a number, as `%v` prints it: Go's `%g` with the
/// shortest precision.
pub fn go_shortest(n: f64) -> String {
    shortest_g(n, 'g')
}

/// Shortest `%g` switches to exponent form from an exponent of 6 (or below
/// -4), as Go's `%v` does.
fn shortest_g(n: f64, verb: char) -> String {
    let mut out = String::new();
    if push_sign_or_inf(&mut out, n) {
        return out;
    }
    let d = Decimal::shortest(n);
    let digits = d.digits.len() as i64;
    let exp = d.exp - 1;
    if !(-4..6).contains(&exp) {
        fmt_e(&mut out, exponent_char(verb), digits - 1, &d);
    } else {
        fmt_f(&mut out, (digits - d.exp).max(0), &d);
    }
    out
}

/// `%b %d %o %x %X` on a whole number, the way big.Int's Formatter does.
pub(crate) fn go_format_int(n: f64, spec: &NumSpec) -> String {
    let base = match spec.verb {
        'b' => 2,
        'o' => 8,
        'x' | 'X' => 16,
        _ => 10,
    };
    let mut digits = integer_digits(n.abs(), base);
    if spec.verb == 'X' {
        digits = digits.to_ascii_uppercase();
    }
    let sign = if n < 0.0 {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let prefix = match (spec.sharp, spec.verb) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(p) = spec.prec {
        if digits.len() < p {
            zeros = p - digits.len();
        } else if digits == "0" && p == 0 {
            return String::new(); // Go prints nothing for zero at precision zero
        }
    }
    let (mut left, mut right) = (0, 0);
    let length = sign.len() + prefix.len() + zeros + digits.len();
    if let Some(width) = spec.width.filter(|w| *w > length) {
        let extra = width - length;
        if spec.minus {
            right = extra;
        } else if spec.zero && spec.prec.is_none() {
            zeros = extra;
        } else {
            left = extra;
        }
    }
    format!("{}{sign}{prefix}{}{digits}{}", " ".repeat(left), "0".repeat(zeros), " ".repeat(right))
}

/// The digits of a non-negative whole f64 in `base`, exact even beyond u128.
fn integer_digits(n: f64, base: u32) -> String {
    const RADIX: &[u8; 16] = b"0123456789abcdef";
    // n = mantissa × 2^shift exactly.
    let bits = n.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    if raw_exp == 0 {
        return "0".to_string(); // zero (whole subnormals do not exist)
    }
    let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let shift = raw_exp - 1075;
    // Little-endian 32-bit limbs of the integer value.
    let mut limbs: Vec<u32> = if shift >= 0 {
        let mut l = vec![0u32; (shift / 32) as usize];
        let m = (mantissa as u128) << (shift % 32);
        l.extend([m as u32, (m >> 32) as u32, (m >> 64) as u32]);
        l
    } else {
        let m = mantissa >> (-shift).min(63);
        vec![m as u32, (m >> 32) as u32]
    };
    let mut out = Vec::new();
    loop {
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
        if limbs.is_empty() {
            break;
        }
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | *limb as u64;
            *limb = (cur / base as u64) as u32;
            rem = cur % base as u64;
        }
        out.push(RADIX[rem as usize]);
    }
    if out.is_empty() {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::string::testutil::{err, n, ok, s};
    use super::*;

    #[test]
    fn abs_ceil_floor_signum() {
        assert_eq!(ok("abs", vec![n(-12.4)]), n(12.4));
        assert_eq!(ok("abs", vec![n(0.0)]), n(0.0));
        assert_eq!(ok("abs", vec![s("-3")]), n(3.0));
        assert_eq!(ok("ceil", vec![n(5.1)]), n(6.0));
        assert_eq!(ok("ceil", vec![n(-5.1)]), n(-5.0));
        assert_eq!(ok("ceil", vec![n(f64::INFINITY)]), n(f64::INFINITY));
        assert_eq!(ok("floor", vec![n(4.9)]), n(4.0));
        assert_eq!(ok("floor", vec![n(-4.1)]), n(-5.0));
        assert_eq!(ok("signum", vec![n(-13.0)]), n(-1.0));
        assert_eq!(ok("signum", vec![n(0.0)]), n(0.0));
        assert_eq!(ok("signum", vec![n(344.0)]), n(1.0));
        assert!(err("abs", vec![s("x")]).contains("a number is required"));
        assert!(err("abs", vec![Value::Bool(true)]).contains("number required"));
    }

    #[test]
    fn log_and_pow() {
        assert_eq!(ok("log", vec![n(50.0), n(10.0)]), n(50f64.ln() / 10f64.ln()));
        assert_eq!(ok("log", vec![n(16.0), n(2.0)]), n(4.0));
        assert_eq!(ok("log", vec![n(0.0), n(10.0)]), n(f64::NEG_INFINITY));
        assert_eq!(ok("pow", vec![n(3.0), n(2.0)]), n(9.0));
        assert_eq!(ok("pow", vec![n(4.0), n(0.0)]), n(1.0));
        assert_eq!(ok("pow", vec![n(2.0), n(-1.0)]), n(0.5));
        assert!(err("pow", vec![n(-8.0), n(0.5)]).contains("not a number"));
    }

    #[test]
    fn max_and_min() {
        assert_eq!(ok("max", vec![n(12.0), n(54.0), n(3.0)]), n(54.0));
        assert_eq!(ok("min", vec![n(12.0), n(54.0), n(3.0)]), n(3.0));
        assert_eq!(ok("max", vec![s("7"), n(2.0)]), n(7.0));
        assert_eq!(ok("min", vec![n(-1.5)]), n(-1.5));
        assert!(err("max", vec![]).contains("at least one number"));
        let e = call_err_index("min", vec![n(1.0), s("x")]);
        assert_eq!(e, Some(1));
    }

    fn call_err_index(name: &str, args: Vec<Value>) -> Option<usize> {
        super::super::string::testutil::call(name, args).unwrap_err().arg
    }

    #[test]
    fn parseint_bases() {
        assert_eq!(ok("parseint", vec![s("100"), n(10.0)]), n(100.0));
        assert_eq!(ok("parseint", vec![s("FF"), n(16.0)]), n(255.0));
        assert_eq!(ok("parseint", vec![s("-10"), n(16.0)]), n(-16.0));
        assert_eq!(ok("parseint", vec![s("+11"), n(2.0)]), n(3.0));
        assert_eq!(ok("parseint", vec![s("zZ"), n(62.0)]), n(35.0 * 62.0 + 61.0));
        assert_eq!(ok("parseint", vec![s("zz"), n(36.0)]), n(1295.0));
        assert_eq!(err("parseint", vec![s("12"), n(2.0)]), "cannot parse \"12\" as a base 2 integer");
        assert_eq!(err("parseint", vec![s(""), n(10.0)]), "cannot parse \"\" as a base 10 integer");
        assert_eq!(err("parseint", vec![s("1"), n(63.0)]), "base must be a whole number between 2 and 62 inclusive");
        assert_eq!(err("parseint", vec![n(1.0), n(10.0)]), "first argument must be a string, not number");
    }

    fn spec(verb: char) -> NumSpec {
        NumSpec { verb, plus: false, space: false, zero: false, minus: false, sharp: false, width: None, prec: None }
    }

    #[test]
    fn shortest_text_matches_go_v() {
        assert_eq!(go_shortest(0.0), "0");
        assert_eq!(go_shortest(1.5), "1.5");
        assert_eq!(go_shortest(-2.0), "-2");
        assert_eq!(go_shortest(123456.0), "123456");
        assert_eq!(go_shortest(1234567.0), "1.234567e+06");
        assert_eq!(go_shortest(0.0001), "0.0001");
        assert_eq!(go_shortest(0.00001), "1e-05");
        assert_eq!(go_shortest(1e21), "1e+21");
        assert_eq!(go_shortest(f64::INFINITY), "+Inf");
    }

    #[test]
    fn float_verbs() {
        let f = |verb, prec, x| go_format_float(x, &NumSpec { prec, ..spec(verb) });
        assert_eq!(f('f', Some(2), 0.005), "0.00");
        assert_eq!(f('f', Some(2), 0.006), "0.01");
        assert_eq!(f('f', Some(1), 9.96), "10.0");
        assert_eq!(f('f', Some(0), 0.5), "0");
        assert_eq!(f('f', Some(3), 1e-10), "0.000");
        assert_eq!(f('f', None, 1e21), "1000000000000000000000.000000");
        assert_eq!(f('e', Some(1), 9.96), "1.0e+01");
        assert_eq!(f('e', Some(0), 12345.0), "1e+04");
        assert_eq!(f('g', Some(0), 12345.0), "1e+04");
        assert_eq!(f('g', Some(10), 0.5), "0.5");
        assert_eq!(f('g', Some(2), 123.0), "1.2e+02");
        assert_eq!(f('g', None, 1e-7), "1e-07");
        assert_eq!(f('e', None, 1e100), "1.000000e+100");
        assert_eq!(go_format_float(f64::NEG_INFINITY, &NumSpec { width: Some(6), zero: true, ..spec('f') }), "  -Inf");
    }

    #[test]
    fn integer_verbs() {
        let i = |verb, x| go_format_int(x, &spec(verb));
        assert_eq!(i('d', 0.0), "0");
        assert_eq!(i('d', -255.0), "-255");
        assert_eq!(i('b', 10.0), "1010");
        assert_eq!(i('X', 48879.0), "BEEF");
        assert_eq!(i('d', 2f64.powi(70)), "1180591620717411303424");
        assert_eq!(i('x', 2f64.powi(70)), "400000000000000000");
        assert_eq!(go_format_int(0.0, &NumSpec { prec: Some(0), width: Some(3), ..spec('d') }), "");
        assert_eq!(go_format_int(5.0, &NumSpec { prec: Some(3), width: Some(6), zero: true, ..spec('d') }), "   005");
    }
}
