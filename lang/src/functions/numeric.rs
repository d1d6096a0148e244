//! Numeric functions, and the Go-style number formatting that `format`
//! and `%v` rely on.
//!
//! Arithmetic and rounding are exact on [`Number`]s, as in cty; `log` and
//! `pow` compute in float64 as cty does, so their results carry a float64's
//! precision (`pow(2, 0.5)` prints 1.4142135623730951).

use super::string::{int_arg, invalid_arg, number_arg, to_number};
use super::{arity, FuncContext, FuncError, FuncResult};
use crate::number::{Decimal, Number, NumberResult};
use crate::value::Value;

pub const NAMES: &[&str] = &["abs", "ceil", "floor", "log", "max", "min", "parseint", "pow", "signum"];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    match name {
        "abs" => unary(name, args, |n| Ok(n.abs())),
        "ceil" => unary(name, args, Number::ceil),
        "floor" => unary(name, args, Number::floor),
        "signum" => unary(name, args, |n| Ok(signum(n))),
        "log" => {
            arity(name, args, 2, Some(2))?;
            let (num, base) = (number_arg(args, 0, "num")?.to_f64(), number_arg(args, 1, "base")?.to_f64());
            float_result(num.ln() / base.ln())
        }
        "pow" => {
            arity(name, args, 2, Some(2))?;
            let (num, power) = (number_arg(args, 0, "num")?.to_f64(), number_arg(args, 1, "power")?.to_f64());
            float_result(num.powf(power))
        }
        "max" => extreme(name, args, std::cmp::Ordering::Greater),
        "min" => extreme(name, args, std::cmp::Ordering::Less),
        "parseint" => parseint(name, args),
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

fn unary(name: &str, args: &[Value], f: fn(&Number) -> NumberResult) -> FuncResult {
    arity(name, args, 1, Some(1))?;
    f(&number_arg(args, 0, "num")?).map(Value::Number).map_err(|e| FuncError::new(e.to_string()))
}

/// cty's signum: -1, 0 or 1 (zero for both zeros).
fn signum(n: &Number) -> Number {
    Number::from(if n.is_zero() {
        0
    } else if n.is_sign_negative() {
        -1
    } else {
        1
    })
}

/// A float64 result at a float64's precision, as cty's `NumberFloatVal`;
/// cty numbers can be infinite but never NaN.
fn float_result(n: f64) -> FuncResult {
    Number::from_f64(n).map(Value::Number).ok_or_else(|| FuncError::new("the result is not a number"))
}

/// The first of the greatest (or least) numbers, unchanged.
fn extreme(name: &str, args: &[Value], wanted: std::cmp::Ordering) -> FuncResult {
    if args.is_empty() {
        return Err(FuncError::new(format!("function \"{name}\" must pass at least one number")));
    }
    let mut best: Option<Number> = None;
    for (i, arg) in args.iter().enumerate() {
        let n = to_number(arg).map_err(|msg| invalid_arg(i, "numbers", msg))?;
        if best.as_ref().is_none_or(|b| n.cmp_value(b) == wanted) {
            best = Some(n);
        }
    }
    Ok(best.map_or(Value::Null, Value::Number))
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
    let unparsable = || FuncError::arg(0, format!("cannot parse {} as a base {base} integer", super::string::go_quote(text)));
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text.as_str()),
    };
    if digits.is_empty() {
        return Err(unparsable());
    }
    let values = digits.chars().map(|c| digit_value(c, base as u32)).collect::<Option<Vec<u8>>>().ok_or_else(unparsable)?;
    Number::from_digits(negative, &values, base as u32).map(Value::Number).map_err(|e| FuncError::arg(0, e.to_string()))
}

fn digit_value(c: char, base: u32) -> Option<u8> {
    let d = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (d < base).then_some(d as u8)
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

/// Writes the sign of `n` (negative zero has one); returns true when `n` is
/// infinite and fully written, as Go prints "+Inf" and "-Inf".
fn push_sign_or_inf(out: &mut String, n: &Number) -> bool {
    if n.is_sign_negative() {
        out.push('-');
    }
    if n.is_infinite() {
        if !n.is_sign_negative() {
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

/// Go's big.Float text for verbs e, E, f, g and G at precision `prec`,
/// rounded from the number's exact decimal expansion.
fn float_text(n: &Number, verb: char, prec: usize) -> String {
    let mut out = String::new();
    if push_sign_or_inf(&mut out, n) {
        return out;
    }
    let Some(mut d) = n.exact_decimal() else { return out };
    let p = prec as i64;
    match verb.to_ascii_lowercase() {
        'e' => {
            d.round(p + 1);
            fmt_e(&mut out, verb, p, &d);
        }
        'f' => {
            d.round(d.exp + p);
            d.write_fixed(&mut out, p);
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
                d.write_fixed(&mut out, (p - d.exp).max(0));
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
pub(crate) fn go_format_float(n: &Number, spec: &NumSpec) -> String {
    let text = match (spec.prec, spec.verb) {
        (Some(p), verb) => float_text(n, verb, p),
        (None, 'e' | 'E' | 'f') => float_text(n, spec.verb, 6),
        (None, verb) => shortest_g(n, verb),
    };
    pad_number(&text, spec, n.is_infinite())
}

/// The default text of a number, as `%v` prints it: Go's `%g` with the
/// shortest precision.
pub fn go_shortest(n: &Number) -> String {
    shortest_g(n, 'g')
}

/// Shortest `%g` switches to exponent form from an exponent of 6 (or below
/// -4), as Go's `%v` does.
fn shortest_g(n: &Number, verb: char) -> String {
    let mut out = String::new();
    if push_sign_or_inf(&mut out, n) {
        return out;
    }
    let Some(d) = n.shortest_decimal() else { return out };
    let digits = d.digits.len() as i64;
    let exp = d.exp - 1;
    if !(-4..6).contains(&exp) {
        fmt_e(&mut out, exponent_char(verb), digits - 1, &d);
    } else {
        d.write_fixed(&mut out, (digits - d.exp).max(0));
    }
    out
}

/// `%b %d %o %x %X` on a whole number, the way big.Int's Formatter does;
/// `None` for other numbers.
pub(crate) fn go_format_int(n: &Number, spec: &NumSpec) -> Option<String> {
    let base = match spec.verb {
        'b' => 2,
        'o' => 8,
        'x' | 'X' => 16,
        _ => 10,
    };
    let mut digits = n.integer_digits(base)?;
    if spec.verb == 'X' {
        digits = digits.to_ascii_uppercase();
    }
    let sign = if n.is_sign_negative() && !n.is_zero() {
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
            return Some(String::new()); // Go prints nothing for zero at precision zero
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
    Some(format!("{}{sign}{prefix}{}{digits}{}", " ".repeat(left), "0".repeat(zeros), " ".repeat(right)))
}

#[cfg(test)]
mod tests {
    use super::super::string::testutil::{err, n, ok, s};
    use super::*;

    fn lit(text: &str) -> Number {
        Number::parse(text).expect("a number").expect("in range")
    }

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
        // cty computes both in float64: Go's big.Float prints the results at
        // 53 bits, which is how Packer shows them.
        assert_eq!(ok("pow", vec![n(2.0), n(64.0)]).to_string(), "18446744073709550000");
        assert_eq!(ok("pow", vec![n(2.0), n(0.5)]).to_string(), "1.4142135623730951");
        assert_eq!(ok("log", vec![n(8.0), n(2.0)]).to_string(), "3");
        assert_eq!(ok("pow", vec![n(10.0), n(1e9)]).to_string(), "+Inf");
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
        assert_eq!(ok("parseint", vec![s("ff"), n(16.0)]).to_string(), "255");
        // Exact beyond 64 bits, as Go's big.Int.
        assert_eq!(ok("parseint", vec![s("ffffffffffffffffffffffff"), n(16.0)]).to_string(), "79228162514264337593543950335");
        assert!(err("parseint", vec![s(&"z".repeat(20_000)), n(62.0)]).contains("out of range"));
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
        // Expected strings from Go: fmt.Sprintf("%v", x) for a *big.Float.
        assert_eq!(go_shortest(&lit("0")), "0");
        assert_eq!(go_shortest(&lit("-0")), "-0");
        assert_eq!(go_shortest(&lit("1.5")), "1.5");
        assert_eq!(go_shortest(&lit("-2")), "-2");
        assert_eq!(go_shortest(&lit("123456")), "123456");
        assert_eq!(go_shortest(&lit("1234567")), "1.234567e+06");
        assert_eq!(go_shortest(&lit("0.0001")), "0.0001");
        assert_eq!(go_shortest(&lit("0.00001")), "1e-05");
        assert_eq!(go_shortest(&lit("1e21")), "1e+21");
        assert_eq!(go_shortest(&Number::infinity(false)), "+Inf");
    }

    #[test]
    fn float_verbs() {
        // Expected strings from Go's fmt on a *big.Float parsed at 512 bits
        // (cty's literals): rounding starts from the exact binary value, so
        // 2.675 (just below in binary) gives 2.67, and 0.005 gives 0.00.
        let f = |verb, prec, x: &str| go_format_float(&lit(x), &NumSpec { prec, ..spec(verb) });
        assert_eq!(f('f', Some(2), "0.005"), "0.00");
        assert_eq!(f('f', Some(2), "0.006"), "0.01");
        assert_eq!(f('f', Some(2), "2.675"), "2.67");
        assert_eq!(f('f', Some(2), "1.005"), "1.00");
        assert_eq!(f('f', Some(2), "0.125"), "0.12");
        assert_eq!(f('f', Some(2), "0.375"), "0.38");
        assert_eq!(f('f', Some(1), "9.96"), "10.0");
        assert_eq!(f('f', Some(0), "0.5"), "0");
        assert_eq!(f('f', Some(3), "1e-10"), "0.000");
        assert_eq!(f('f', None, "1e21"), "1000000000000000000000.000000");
        assert_eq!(f('f', None, "-0"), "-0.000000");
        assert_eq!(f('e', Some(1), "9.96"), "1.0e+01");
        assert_eq!(f('e', Some(0), "12345"), "1e+04");
        assert_eq!(f('g', Some(0), "12345"), "1e+04");
        assert_eq!(f('g', Some(10), "0.5"), "0.5");
        assert_eq!(f('g', Some(2), "123"), "1.2e+02");
        assert_eq!(f('g', None, "1e-7"), "1e-07");
        assert_eq!(f('e', None, "1e100"), "1.000000e+100");
        let third = lit("1").div(&lit("3")).unwrap();
        assert_eq!(go_format_float(&third, &NumSpec { prec: Some(2), ..spec('f') }), "0.33");
        assert_eq!(go_format_float(&third, &NumSpec { prec: Some(10), ..spec('g') }), "0.3333333333");
        assert_eq!(go_format_float(&third, &spec('e')), "3.333333e-01");
        // A float64's 0.005 is just above: Go's big.Float prints 0.01.
        assert_eq!(go_format_float(&Number::from_f64(0.005).unwrap(), &NumSpec { prec: Some(2), ..spec('f') }), "0.01");
        assert_eq!(go_format_float(&Number::infinity(true), &NumSpec { width: Some(6), zero: true, ..spec('f') }), "  -Inf");
    }

    #[test]
    fn integer_verbs() {
        let i = |verb, x: &str| go_format_int(&lit(x), &spec(verb)).unwrap();
        assert_eq!(i('d', "0"), "0");
        assert_eq!(i('d', "-0"), "0");
        assert_eq!(i('d', "-255"), "-255");
        assert_eq!(i('b', "10"), "1010");
        assert_eq!(i('X', "48879"), "BEEF");
        assert_eq!(i('d', "1180591620717411303424"), "1180591620717411303424");
        assert_eq!(i('x', "1180591620717411303424"), "400000000000000000");
        assert_eq!(i('x', "2e30"), "193e5939a08ce9dbd480000000");
        assert_eq!(i('d', "1e30"), "1000000000000000000000000000000");
        assert_eq!(go_format_int(&lit("1.5"), &spec('d')), None);
        assert_eq!(go_format_int(&Number::infinity(false), &spec('d')), None);
        assert_eq!(go_format_int(&lit("0"), &NumSpec { prec: Some(0), width: Some(3), ..spec('d') }).unwrap(), "");
        assert_eq!(go_format_int(&lit("5"), &NumSpec { prec: Some(3), width: Some(6), zero: true, ..spec('d') }).unwrap(), "   005");
    }
}
