//! HCL's number: a binary floating-point number of arbitrary precision,
//! computed and printed the way cty (the value system under Packer's HCL)
//! does, so that `0.1 + 0.2` is `0.3` and `pow(2, 64)` prints as in Packer.
//!
//! cty keeps every number as a Go `big.Float`. Each one carries its own
//! precision in bits: 512 for literals and strings converted to numbers,
//! 64 for integers that functions such as `length` return, 53 for results
//! of `pow` and `log` (computed as a float64). Arithmetic rounds to the
//! larger precision of its operands, to nearest, ties to even, and a number
//! prints as the *shortest* decimal that rounds back to it at its own
//! precision. That is why `0.1 + 0.2` prints `0.3` (the error is far below
//! the 512th bit), `1/3` prints 155 digits, `pow(2, 0.5)` prints the 17
//! digits of a float64, and `pow(2, 64)` prints `18446744073709550000`.
//!
//! We reproduce that model rather than use a decimal type: a decimal would
//! print `1/3` and `pow(2, 0.5)` differently, and `0.1 + 0.2` is exact in
//! both. [`Number`] is a sign, a mantissa and a binary exponent plus the
//! precision, with a fast path for the common case of small integers that
//! needs no allocation. The decimal conversions follow Go's math/big
//! (`Text('f', -1)` and fixed-precision rounding), checked against it: the
//! expected strings in the tests were printed by Go.
//!
//! cty numbers can be infinite (`1/0` is `+Inf`) but never NaN: operations
//! that would give NaN fail with cty's messages. Unlike cty, magnitudes are
//! bounded (about 1e±9800, see [`MAX_MAGNITUDE_BITS`]) so that an expression
//! such as `1e9000 * 1e9000 * …` fails with an error instead of building
//! numbers that take seconds to print.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::fmt;

/// The precision cty gives numbers parsed from text (`cty.ParseNumberVal`).
pub const LITERAL_PRECISION: u32 = 512;
/// The precision of integers made by cty's `NumberIntVal` (Go's
/// `big.Float.SetInt64`).
const INT_PRECISION: u32 = 64;
/// The precision of cty's `NumberFloatVal`: a float64's mantissa.
const FLOAT_PRECISION: u32 = 53;

/// Numbers must stay below 2^MAX_MAGNITUDE_BITS (about 1e9864) and, unless
/// zero, above 2^-MAX_MAGNITUDE_BITS. Printing one takes at most about ten
/// thousand digits.
pub const MAX_MAGNITUDE_BITS: i64 = 1 << 15;

/// Why an operation has no number as its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// The result would be NaN; cty's explanation.
    NotANumber(&'static str),
    /// The result is beyond [`MAX_MAGNITUDE_BITS`].
    OutOfRange,
}

impl NumberError {
    pub fn message(&self) -> &'static str {
        match self {
            NumberError::NotANumber(why) => why,
            NumberError::OutOfRange => "the number is out of range: bake's numbers must lie between about 1e-9800 and 1e9800",
        }
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for NumberError {}

pub type NumberResult = Result<Number, NumberError>;

/// An HCL number; see the module documentation.
#[derive(Clone)]
pub struct Number(Repr);

#[derive(Clone)]
enum Repr {
    /// A whole number below 2^63 in magnitude (never negative zero).
    Int {
        value: i64,
        prec: u32,
    },
    /// Any other finite number.
    Big(Box<Float>),
    Inf {
        negative: bool,
    },
}

/// `±mant × 2^exp` with `prec` bits of precision; `mant` has at most
/// `prec` bits once rounded.
#[derive(Clone, Debug)]
struct Float {
    negative: bool,
    mant: BigUint,
    exp: i64,
    prec: u32,
}

impl Float {
    fn is_zero(&self) -> bool {
        self.mant.is_zero()
    }

    /// The value rounded to `prec` bits, to nearest, ties to even.
    fn rounded(mut self, prec: u32) -> Float {
        self.prec = prec;
        let bits = self.mant.bits();
        if bits <= u64::from(prec) {
            return self;
        }
        let shift = bits - u64::from(prec);
        let rest = &self.mant & ((BigUint::one() << shift) - 1u32);
        let half = BigUint::one() << (shift - 1);
        let mut kept = &self.mant >> shift;
        if rest > half || (rest == half && kept.is_odd()) {
            kept += 1u32;
        }
        self.mant = kept;
        self.exp += shift as i64;
        self
    }

    /// The lowest binary exponent and the mantissa at that exponent for
    /// adding two floats exactly.
    fn aligned(&self, exp: i64) -> BigUint {
        &self.mant << (self.exp - exp) as u64
    }

    /// The integer part, truncated toward zero.
    fn trunc(&self) -> Float {
        if self.exp >= 0 {
            return self.clone();
        }
        let shift = (-self.exp) as u64;
        Float { mant: &self.mant >> shift, exp: 0, ..self.clone() }
    }

    fn is_integer(&self) -> bool {
        self.exp >= 0 || self.mant.is_zero() || self.mant.trailing_zeros().unwrap_or(0) >= (-self.exp) as u64
    }

    /// `mant × 2^exp` as an exact decimal.
    fn exact_decimal(mant: &BigUint, exp: i64) -> Decimal {
        if mant.is_zero() {
            return Decimal { digits: Vec::new(), exp: 0 };
        }
        let (text, point) = if exp >= 0 {
            let text = (mant << exp as u64).to_string();
            let len = text.len() as i64;
            (text, len)
        } else {
            let text = (mant * BigUint::from(5u32).pow((-exp) as u32)).to_string();
            let len = text.len() as i64;
            (text, len + exp)
        };
        let mut d = Decimal { digits: text.into_bytes(), exp: point };
        d.trim();
        d
    }

    /// The shortest decimal that rounds back to this float at its
    /// precision, found as Go's math/big does: walk the exact digits until
    /// they part from those of both neighbours half an ulp away.
    fn shortest_decimal(&self) -> Decimal {
        let mut d = Float::exact_decimal(&self.mant, self.exp);
        if d.digits.is_empty() {
            return d;
        }
        // The mantissa with one more bit than the precision, so that its
        // last bit is half an ulp.
        let bits = self.mant.bits() as i64;
        let widen = i64::from(self.prec) + 1 - bits;
        let (mant, exp) = if widen >= 0 { (&self.mant << widen as u64, self.exp - widen) } else { (&self.mant >> (-widen) as u64, self.exp - widen) };
        let lower = Float::exact_decimal(&(&mant - 1u32), exp);
        let upper = Float::exact_decimal(&(&mant + 1u32), exp);
        // Ties round to even, so the bounds themselves read back as this
        // float only when its mantissa is even.
        let inclusive = !mant.bit(1);
        for i in 0..d.digits.len() {
            let (l, m, u) = (lower.at(i as i64), d.digits[i], upper.at(i as i64));
            let can_truncate = l != m || (inclusive && i + 1 == lower.digits.len());
            let can_round_up = m != u && (inclusive || m + 1 < u || i + 1 < upper.digits.len());
            match (can_truncate, can_round_up) {
                (true, true) => return d.rounded(i + 1),
                (true, false) => {
                    d.digits.truncate(i + 1);
                    d.trim();
                    return d;
                }
                (false, true) => {
                    d.round_up(i + 1);
                    return d;
                }
                (false, false) => {}
            }
        }
        d
    }
}

/// A decimal `0.d1d2d3… × 10^exp` without trailing zeros, the form Go's
/// math/big rounds and prints numbers from. No digits means zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal {
    /// ASCII digits.
    pub digits: Vec<u8>,
    pub exp: i64,
}

impl Decimal {
    /// The digit at position `i`, zero outside the stored digits.
    pub fn at(&self, i: i64) -> u8 {
        usize::try_from(i).ok().and_then(|i| self.digits.get(i).copied()).unwrap_or(b'0')
    }

    /// Rounds to `n` significant digits: to nearest, ties to even.
    pub fn round(&mut self, n: i64) {
        // Go leaves the digits alone when rounding before the first one;
        // they print as zeros then.
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

    fn rounded(mut self, n: usize) -> Decimal {
        self.round(n as i64);
        self
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

    /// `ddd.ddd` with `prec` fraction digits (Go's `%f` layout).
    pub fn write_fixed(&self, out: &mut String, prec: i64) {
        if self.exp > 0 {
            for i in 0..self.exp {
                out.push(self.at(i) as char);
            }
        } else {
            out.push('0');
        }
        if prec > 0 {
            out.push('.');
            for i in 0..prec {
                out.push(self.at(self.exp + i) as char);
            }
        }
    }
}

impl Number {
    /// Zero, as cty's `cty.Zero`.
    pub const ZERO: Number = Number(Repr::Int { value: 0, prec: INT_PRECISION });

    pub fn infinity(negative: bool) -> Number {
        Number(Repr::Inf { negative })
    }

    /// The number a decimal literal or string denotes, at cty's literal
    /// precision: an optional sign, digits with an optional fraction, and
    /// an optional exponent (`-1.5e3`). No spaces, hex or special values;
    /// `None` when the text is not such a number.
    pub fn parse(text: &str) -> Option<NumberResult> {
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || !all_digits(frac_part) || (int_part.is_empty() && frac_part.is_empty()) {
            return None;
        }
        let mut exp10: i64 = 0;
        if let Some(e) = exponent {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return None;
            }
            // A longer exponent is out of range whatever the digits.
            let magnitude = digits.trim_start_matches('0');
            exp10 = if magnitude.len() > 9 { i64::MAX / 4 } else { magnitude.parse().unwrap_or(0) };
            if e.starts_with('-') {
                exp10 = -exp10;
            }
        }
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        exp10 -= frac_part.len() as i64;
        Some(Number::from_decimal(negative, digits, exp10))
    }

    /// `±digits × 10^exp10` rounded to the literal precision.
    fn from_decimal(negative: bool, digits: &str, exp10: i64) -> NumberResult {
        // The common case, a small whole number, needs no big arithmetic.
        if (0..=18).contains(&(digits.len() as i64 + exp10)) && exp10 >= 0 && !digits.is_empty() {
            if let Ok(value) = digits.parse::<i64>() {
                let value = value * 10i64.pow(exp10 as u32);
                return Ok(Number(Repr::Int { value: if negative { -value } else { value }, prec: LITERAL_PRECISION }));
            }
        }
        if digits.is_empty() {
            return Number::normalize(Float { negative, mant: BigUint::zero(), exp: 0, prec: LITERAL_PRECISION });
        }
        // log2(10) < 3.33: refuse before computing a power of ten that big.
        let magnitude10 = exp10.saturating_add(digits.len() as i64);
        if magnitude10.saturating_mul(10) / 3 > MAX_MAGNITUDE_BITS || magnitude10.saturating_mul(3) < -MAX_MAGNITUDE_BITS {
            return Err(NumberError::OutOfRange);
        }
        let mant: BigUint = digits.parse().map_err(|_| NumberError::OutOfRange)?;
        let float = if exp10 >= 0 {
            Float { negative, mant: mant * BigUint::from(10u32).pow(exp10 as u32), exp: 0, prec: LITERAL_PRECISION }
        } else {
            let divisor = Float { negative: false, mant: BigUint::from(10u32).pow((-exp10) as u32), exp: 0, prec: LITERAL_PRECISION };
            quotient(&Float { negative, mant, exp: 0, prec: LITERAL_PRECISION }, &divisor, LITERAL_PRECISION)
        };
        Number::normalize(float.rounded(LITERAL_PRECISION))
    }

    /// A whole number from its digit values in `base` (most significant
    /// first), at the precision Go's `big.Float.SetInt` gives it: all its
    /// bits, and at least 64.
    pub fn from_digits(negative: bool, digits: &[u8], base: u32) -> NumberResult {
        let significant = digits.iter().skip_while(|d| **d == 0).count() as f64;
        if significant * f64::from(base).log2() > MAX_MAGNITUDE_BITS as f64 {
            return Err(NumberError::OutOfRange);
        }
        let mant = BigUint::from_radix_be(digits, base).ok_or(NumberError::OutOfRange)?;
        let prec = (mant.bits() as u32).max(INT_PRECISION);
        Number::normalize(Float { negative, mant, exp: 0, prec })
    }

    /// A float64, exactly, at a float64's precision (cty's
    /// `NumberFloatVal`); `None` for NaN, which cty cannot hold.
    pub fn from_f64(n: f64) -> Option<Number> {
        if n.is_nan() {
            return None;
        }
        if n.is_infinite() {
            return Some(Number::infinity(n < 0.0));
        }
        let bits = n.to_bits();
        let raw_exp = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mant, exp) = if raw_exp == 0 { (fraction, -1074) } else { (fraction | (1u64 << 52), raw_exp - 1075) };
        let float = Float { negative: n.is_sign_negative(), mant: BigUint::from(mant), exp, prec: FLOAT_PRECISION };
        Number::normalize(float).ok()
    }

    fn from_u64_magnitude(negative: bool, magnitude: u64) -> Number {
        let float = Float { negative, mant: BigUint::from(magnitude), exp: 0, prec: INT_PRECISION };
        Number::normalize(float).unwrap_or(Number::ZERO)
    }

    /// Puts a float in canonical form: small whole numbers as `Int`,
    /// trailing zero bits moved into the exponent, range checked.
    fn normalize(mut f: Float) -> NumberResult {
        if f.mant.is_zero() {
            return Ok(if f.negative { Number(Repr::Big(Box::new(Float { exp: 0, ..f }))) } else { Number(Repr::Int { value: 0, prec: f.prec }) });
        }
        let zeros = f.mant.trailing_zeros().unwrap_or(0);
        if zeros > 0 {
            f.mant >>= zeros;
            f.exp += zeros as i64;
        }
        let top = f.exp + f.mant.bits() as i64;
        if !(-MAX_MAGNITUDE_BITS..=MAX_MAGNITUDE_BITS).contains(&top) {
            return Err(NumberError::OutOfRange);
        }
        if f.exp >= 0 && top <= 63 {
            let magnitude = f.mant.to_i64().unwrap_or(0) << f.exp;
            return Ok(Number(Repr::Int { value: if f.negative { -magnitude } else { magnitude }, prec: f.prec }));
        }
        Ok(Number(Repr::Big(Box::new(f))))
    }

    /// The finite value as a float, `None` for infinities.
    fn float(&self) -> Option<Float> {
        match &self.0 {
            Repr::Int { value, prec } => Some(Float { negative: *value < 0, mant: BigUint::from(value.unsigned_abs()), exp: 0, prec: *prec }),
            Repr::Big(f) => Some((**f).clone()),
            Repr::Inf { .. } => None,
        }
    }

    fn prec(&self) -> u32 {
        match &self.0 {
            Repr::Int { prec, .. } => *prec,
            Repr::Big(f) => f.prec,
            Repr::Inf { .. } => 0,
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::Inf { .. })
    }

    /// True for negative numbers, negative zero and negative infinity.
    pub fn is_sign_negative(&self) -> bool {
        match &self.0 {
            Repr::Int { value, .. } => *value < 0,
            Repr::Big(f) => f.negative,
            Repr::Inf { negative } => *negative,
        }
    }

    pub fn is_zero(&self) -> bool {
        match &self.0 {
            Repr::Int { value, .. } => *value == 0,
            Repr::Big(f) => f.is_zero(),
            Repr::Inf { .. } => false,
        }
    }

    /// -1, 0 or 1 (zero for both zeros).
    fn sign(&self) -> i8 {
        if self.is_zero() {
            0
        } else if self.is_sign_negative() {
            -1
        } else {
            1
        }
    }

    /// True for finite whole numbers.
    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Int { .. } => true,
            Repr::Big(f) => f.is_integer(),
            Repr::Inf { .. } => false,
        }
    }

    /// The number as an `i64` when it is a whole number in range.
    pub fn to_i64(&self) -> Option<i64> {
        match &self.0 {
            Repr::Int { value, .. } => Some(*value),
            Repr::Big(f) if f.is_integer() && !f.is_zero() && f.exp + f.mant.bits() as i64 <= 64 => {
                let magnitude = f.mant.to_i128()? << f.exp;
                i64::try_from(if f.negative { -magnitude } else { magnitude }).ok()
            }
            Repr::Big(_) => self.is_zero().then_some(0),
            Repr::Inf { .. } => None,
        }
    }

    /// The number as a `u64` when it is a non-negative whole number in
    /// range.
    pub fn to_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Int { value, .. } => u64::try_from(*value).ok(),
            Repr::Big(f) if f.is_integer() && !f.negative && f.exp < 64 => {
                let mant = if f.exp >= 0 { &f.mant << f.exp as u64 } else { f.trunc().mant };
                mant.to_u64()
            }
            Repr::Big(f) => f.is_zero().then_some(0),
            Repr::Inf { .. } => None,
        }
    }

    /// The nearest float64 (ties to even), as Go's `big.Float.Float64`.
    pub fn to_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int { value, .. } => *value as f64,
            Repr::Inf { negative } => {
                if *negative {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            Repr::Big(f) => {
                let r = (**f).clone().rounded(FLOAT_PRECISION);
                let mant = r.mant.to_u64().unwrap_or(0) as f64;
                // Two steps, so that neither factor overflows on its own.
                let half = (r.exp / 2).clamp(-1100, 1100) as i32;
                let rest = (r.exp - i64::from(half)).clamp(-1100, 1100) as i32;
                let magnitude = mant * 2f64.powi(half) * 2f64.powi(rest);
                if r.negative {
                    -magnitude
                } else {
                    magnitude
                }
            }
        }
    }

    /// The number as its exact decimal expansion (a number in binary always
    /// has a finite one); `None` for infinities.
    pub fn exact_decimal(&self) -> Option<Decimal> {
        let f = self.float()?;
        Some(Float::exact_decimal(&f.mant, f.exp))
    }

    /// The shortest decimal that reads back as this number at its
    /// precision; `None` for infinities.
    pub fn shortest_decimal(&self) -> Option<Decimal> {
        match &self.0 {
            Repr::Int { value, prec } if *prec >= INT_PRECISION || value.unsigned_abs() < 1 << FLOAT_PRECISION => {
                let mut d = Decimal { digits: value.unsigned_abs().to_string().into_bytes(), exp: 0 };
                d.exp = d.digits.len() as i64;
                d.trim();
                Some(d)
            }
            _ => Some(self.float()?.shortest_decimal()),
        }
    }

    /// The digits of a whole number in `base` (2 to 16), without sign;
    /// `None` for other numbers.
    pub fn integer_digits(&self, base: u32) -> Option<String> {
        match &self.0 {
            Repr::Int { value, .. } => Some(BigUint::from(value.unsigned_abs()).to_str_radix(base)),
            Repr::Big(f) if f.is_integer() => Some((&f.trunc().mant << f.exp.max(0) as u64).to_str_radix(base)),
            _ => None,
        }
    }

    pub fn neg(&self) -> Number {
        match &self.0 {
            Repr::Int { value: 0, prec } => Number(Repr::Big(Box::new(Float { negative: true, mant: BigUint::zero(), exp: 0, prec: *prec }))),
            Repr::Int { value, prec } => Number(Repr::Int { value: -value, prec: *prec }),
            Repr::Big(f) => {
                let f = Float { negative: !f.negative, ..(**f).clone() };
                Number::normalize(f).unwrap_or(Number::ZERO)
            }
            Repr::Inf { negative } => Number::infinity(!negative),
        }
    }

    pub fn abs(&self) -> Number {
        if self.is_sign_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    /// `self + other`, rounded to the larger precision (Go's `Add`).
    pub fn add(&self, other: &Number) -> NumberResult {
        let prec = self.prec().max(other.prec());
        if let (Repr::Int { value: a, .. }, Repr::Int { value: b, .. }) = (&self.0, &other.0) {
            if let Some(sum) = a.checked_add(*b).filter(|s| fits(*s, prec)) {
                return Ok(Number(Repr::Int { value: sum, prec }));
            }
        }
        let (a, b) = match (self.float(), other.float()) {
            (Some(a), Some(b)) => (a, b),
            (None, None) if self.is_sign_negative() != other.is_sign_negative() => {
                return Err(NumberError::NotANumber("can't compute sum of opposing infinities"))
            }
            (None, _) => return Ok(self.clone()),
            (_, None) => return Ok(other.clone()),
        };
        Number::normalize(sum(&a, &b, prec))
    }

    /// `self - other`, as cty computes it: `self + (-other)`.
    pub fn sub(&self, other: &Number) -> NumberResult {
        self.add(&other.neg()).map_err(|e| match e {
            NumberError::NotANumber(_) => NumberError::NotANumber("can't subtract infinity from itself"),
            other => other,
        })
    }

    /// `self × other`: cty rounds the product to 512 bits, then keeps the
    /// larger of the operands' precisions and the bits the product needs.
    pub fn mul(&self, other: &Number) -> NumberResult {
        let prec = self.prec().max(other.prec());
        if let (Repr::Int { value: a, .. }, Repr::Int { value: b, .. }) = (&self.0, &other.0) {
            if let Some(product) = a.checked_mul(*b).filter(|p| *p != 0 || (*a >= 0 && *b >= 0)) {
                let needed = significant_bits(product.unsigned_abs());
                return Ok(Number(Repr::Int { value: product, prec: prec.max(needed) }));
            }
        }
        let negative = self.is_sign_negative() != other.is_sign_negative();
        let (a, b) = match (self.float(), other.float()) {
            (Some(a), Some(b)) => (a, b),
            _ if self.is_zero() || other.is_zero() => return Err(NumberError::NotANumber("can't multiply zero by infinity")),
            _ => return Ok(Number::infinity(negative)),
        };
        let product = Float { negative, mant: a.mant * b.mant, exp: a.exp + b.exp, prec: LITERAL_PRECISION }.rounded(LITERAL_PRECISION);
        let needed = significant_bits_big(&product.mant);
        let prec = prec.max(needed);
        Number::normalize(Float { prec, ..product })
    }

    /// `self / other`, rounded to the larger precision; dividing a non-zero
    /// number by zero gives an infinity, as in cty.
    pub fn div(&self, other: &Number) -> NumberResult {
        let prec = self.prec().max(other.prec());
        let negative = self.is_sign_negative() != other.is_sign_negative();
        const NAN: NumberError = NumberError::NotANumber("can't divide zero by zero or infinity by infinity");
        if let (Repr::Int { value: a, .. }, Repr::Int { value: b, .. }) = (&self.0, &other.0) {
            if *b != 0 && a % b == 0 && (*a != 0 || !negative) {
                if let Some(q) = a.checked_div(*b).filter(|q| fits(*q, prec)) {
                    return Ok(Number(Repr::Int { value: q, prec }));
                }
            }
        }
        let (a, b) = match (self.float(), other.float()) {
            (Some(a), Some(b)) => (a, b),
            (None, None) => return Err(NAN),
            (None, Some(_)) => return Ok(Number::infinity(negative)),
            (Some(_), None) => return Number::normalize(Float { negative, mant: BigUint::zero(), exp: 0, prec }),
        };
        match (a.is_zero(), b.is_zero()) {
            (true, true) => Err(NAN),
            (false, true) => Ok(Number::infinity(negative)),
            (true, false) => Number::normalize(Float { negative, mant: BigUint::zero(), exp: 0, prec }),
            (false, false) => Number::normalize(quotient(&a, &b, prec).rounded(prec)),
        }
    }

    /// `self % other` as cty defines it: the remainder of a division
    /// truncated toward zero (`-5 % 3` is `-2`), `self` itself when `other`
    /// is zero, and the product's infinity when either is infinite.
    pub fn rem(&self, other: &Number) -> NumberResult {
        if self.is_infinite() || other.is_infinite() {
            return self.mul(other).map_err(|_| NumberError::NotANumber("can't use modulo with zero and infinity"));
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        if let (Repr::Int { value: a, prec }, Repr::Int { value: b, .. }) = (&self.0, &other.0) {
            // An exact zero remainder is positive, as below.
            return Ok(Number(Repr::Int { value: a % b, prec: *prec }));
        }
        // cty: self - other × trunc(self / other), the last two steps
        // rounded to self's precision.
        let prec = self.prec();
        let (Some(a), Some(b), Some(q)) = (self.float(), other.float(), self.div(other)?.float()) else {
            return Err(NumberError::OutOfRange);
        };
        let mut whole = q.trunc().rounded(prec);
        // Go takes the integer part as a big.Int, which has no negative zero.
        whole.negative &= !whole.mant.is_zero();
        let product = Float { negative: b.negative == whole.negative, mant: b.mant * whole.mant, exp: b.exp + whole.exp, prec };
        // `negative` above is already that of -product.
        Number::normalize(sum(&a, &product.rounded(prec), prec))
    }

    /// The largest whole number not above this one; infinities stay.
    pub fn floor(&self) -> NumberResult {
        self.to_whole(true)
    }

    /// The smallest whole number not below this one; infinities stay.
    pub fn ceil(&self) -> NumberResult {
        self.to_whole(false)
    }

    fn to_whole(&self, down: bool) -> NumberResult {
        let Some(f) = self.float() else { return Ok(self.clone()) };
        if f.is_integer() {
            return Ok(self.clone());
        }
        let truncated = Number::normalize(Float { prec: INT_PRECISION.max(f.prec), ..f.trunc() })?;
        // Truncation moved toward zero: step away from it where needed.
        let step = if down == f.negative { Some(if down { -1 } else { 1 }) } else { None };
        match step {
            Some(s) => truncated.add(&Number::from(s)),
            None if truncated.is_zero() => Ok(Number::ZERO),
            None => Ok(truncated),
        }
    }

    /// The exact order of two numbers; the two zeros are equal.
    pub fn cmp_value(&self, other: &Number) -> Ordering {
        if let (Repr::Int { value: a, .. }, Repr::Int { value: b, .. }) = (&self.0, &other.0) {
            return a.cmp(b);
        }
        let (a, b) = match (self.float(), other.float()) {
            (Some(a), Some(b)) => (a, b),
            (None, None) => return other.is_sign_negative().cmp(&self.is_sign_negative()),
            (None, Some(_)) => return if self.is_sign_negative() { Ordering::Less } else { Ordering::Greater },
            (Some(_), None) => return if other.is_sign_negative() { Ordering::Greater } else { Ordering::Less },
        };
        match self.sign().cmp(&other.sign()) {
            Ordering::Equal if self.sign() == 0 => Ordering::Equal,
            Ordering::Equal => {
                let exp = a.exp.min(b.exp);
                let magnitude = a.aligned(exp).cmp(&b.aligned(exp));
                if a.negative {
                    magnitude.reverse()
                } else {
                    magnitude
                }
            }
            unequal => unequal,
        }
    }

    /// cty's number equality: whole numbers compare exactly, others by
    /// their printed form, so that numbers differing only in bits below
    /// their decimal form (0.1 read at 53 or 512 bits) are equal.
    fn equals(&self, other: &Number) -> bool {
        match (&self.0, &other.0) {
            (Repr::Int { value: a, .. }, Repr::Int { value: b, .. }) => a == b,
            (Repr::Inf { negative: a }, Repr::Inf { negative: b }) => a == b,
            (Repr::Inf { .. }, _) | (_, Repr::Inf { .. }) => false,
            _ if self.sign() != other.sign() => false,
            _ => match (self.is_integer(), other.is_integer()) {
                (true, true) => self.cmp_value(other) == Ordering::Equal,
                (false, false) => self.to_string() == other.to_string(),
                _ => false,
            },
        }
    }
}

/// `a + b` rounded to `prec` bits.
fn sum(a: &Float, b: &Float, prec: u32) -> Float {
    let exp = a.exp.min(b.exp);
    let (ma, mb) = (a.aligned(exp), b.aligned(exp));
    let (negative, mant) = if a.negative == b.negative {
        (a.negative, ma + mb)
    } else if ma >= mb {
        (a.negative, ma - mb)
    } else {
        (b.negative, mb - ma)
    };
    // An exact zero is positive unless both operands were negative.
    let negative = if mant.is_zero() { a.negative && b.negative } else { negative };
    Float { negative, mant, exp, prec }.rounded(prec)
}

/// The quotient `a / b` with at least `prec + 2` bits and a sticky last
/// bit, so that rounding it to `prec` bits rounds the exact quotient.
fn quotient(a: &Float, b: &Float, prec: u32) -> Float {
    let shift = (i64::from(prec) + 2 + b.mant.bits() as i64 - a.mant.bits() as i64).max(0) as u64;
    let (q, r) = (&a.mant << shift).div_rem(&b.mant);
    let sticky = u32::from(!r.is_zero());
    Float { negative: a.negative != b.negative, mant: (q << 1u32) + sticky, exp: a.exp - b.exp - shift as i64 - 1, prec }
}

/// True when `value` is exact at `prec` bits.
fn fits(value: i64, prec: u32) -> bool {
    significant_bits(value.unsigned_abs()) <= prec
}

/// The bits from the highest set bit to the lowest set bit.
fn significant_bits(n: u64) -> u32 {
    if n == 0 {
        0
    } else {
        64 - n.leading_zeros() - n.trailing_zeros()
    }
}

fn significant_bits_big(n: &BigUint) -> u32 {
    (n.bits() - n.trailing_zeros().unwrap_or(0)) as u32
}

impl fmt::Display for Number {
    /// The number as HCL prints it: Go's `Text('f', -1)`, the shortest
    /// decimal without an exponent (`0.3`, `1e30` in full, `-0`, `+Inf`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Repr::Int { value, prec } = &self.0 {
            if *prec >= INT_PRECISION || value.unsigned_abs() < 1 << FLOAT_PRECISION {
                return write!(f, "{value}");
            }
        }
        let Some(d) = self.shortest_decimal() else {
            return f.write_str(if self.is_sign_negative() { "-Inf" } else { "+Inf" });
        };
        let mut out = String::new();
        if self.is_sign_negative() {
            out.push('-');
        }
        d.write_fixed(&mut out, (d.digits.len() as i64 - d.exp).max(0));
        f.write_str(&out)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.equals(other)
    }
}

impl From<i64> for Number {
    /// A whole number at 64 bits, as cty's `NumberIntVal`.
    fn from(n: i64) -> Number {
        if n == i64::MIN {
            return Number::from_u64_magnitude(true, n.unsigned_abs());
        }
        Number(Repr::Int { value: n, prec: INT_PRECISION })
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Number {
        match i64::try_from(n) {
            Ok(n) => Number::from(n),
            Err(_) => Number::from_u64_magnitude(false, n),
        }
    }
}

macro_rules! from_small_ints {
    ($($t:ty)*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Number {
                Number::from(n as i64)
            }
        }
    )*};
}
from_small_ints!(i8 i16 i32 u8 u16 u32);

impl From<usize> for Number {
    fn from(n: usize) -> Number {
        Number::from(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(text: &str) -> Number {
        Number::parse(text).expect("syntax").expect("range")
    }

    fn int(n: i64) -> Number {
        Number::from(n)
    }

    fn float(n: f64) -> Number {
        Number::from_f64(n).expect("not NaN")
    }

    // Every expected string below was printed by Go's math/big with the
    // operations cty performs (ParseFloat at 512 bits, SetInt64, SetFloat64,
    // Add, Mul at 512 bits, Quo, Text('f', -1)), i.e. what Packer prints.
    #[test]
    fn arithmetic_prints_as_cty() {
        assert_eq!(lit("0.1").add(&lit("0.2")).unwrap().to_string(), "0.3");
        assert_eq!(lit("0.1").add(&lit("0.2")).unwrap(), lit("0.3"));
        assert_eq!(lit("0.1").mul(&lit("3")).unwrap().to_string(), "0.3");
        assert_eq!(
            lit("1").div(&lit("3")).unwrap().to_string(),
            "0.33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333335"
        );
        assert_eq!(
            lit("2").div(&lit("3")).unwrap().to_string(),
            "0.6666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666667"
        );
        assert_eq!(lit("10").div(&lit("4")).unwrap().to_string(), "2.5");
        // Two integers from functions (64 bits) divide at 64 bits.
        assert_eq!(int(1).div(&int(3)).unwrap().to_string(), "0.33333333333333333334");
        // Exact in decimal, not in binary: the error shows at the 155th digit.
        assert_eq!(
            lit("1.1").mul(&lit("1.1")).unwrap().to_string(),
            "1.2100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"
        );
        assert_eq!(
            lit("0.3").sub(&lit("0.1")).unwrap().to_string(),
            "0.20000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002"
        );
        assert_eq!(lit("1e30").mul(&lit("1e30")).unwrap().to_string(), format!("1{}", "0".repeat(60)));
    }

    #[test]
    fn literals_print_as_cty() {
        assert_eq!(lit("9007199254740993").to_string(), "9007199254740993");
        assert_eq!(lit("18446744073709551616").to_string(), "18446744073709551616");
        assert_eq!(lit("1e30").to_string(), "1000000000000000000000000000000");
        assert_eq!(lit("1e-7").to_string(), "0.0000001");
        assert_eq!(lit("123456789.123456789").to_string(), "123456789.123456789");
        assert_eq!(lit("-0").to_string(), "-0");
        assert_eq!(lit("0").neg().to_string(), "-0");
        assert_eq!(lit("-0"), lit("0"));
        assert_eq!(lit("1.50").to_string(), "1.5");
        assert_eq!(lit(".5").to_string(), "0.5");
        assert_eq!(lit("+5.").to_string(), "5");
        assert!(Number::parse("0x10").is_none());
        assert!(Number::parse("inf").is_none());
        assert!(Number::parse(" 5").is_none());
        assert!(Number::parse("1e").is_none());
        assert!(Number::parse("").is_none());
    }

    #[test]
    fn float64_results_print_at_53_bits() {
        // pow() and log() compute in float64 (cty's NumberFloatVal).
        assert_eq!(float(2f64.powi(64)).to_string(), "18446744073709550000");
        assert_eq!(float(2f64.sqrt()).to_string(), "1.4142135623730951");
        assert_eq!(float(1e20).to_string(), "100000000000000000000");
        assert_eq!(float(1e23).to_string(), "100000000000000000000000");
        assert_eq!(float(0.1), lit("0.1"));
        assert_eq!(float(2.675).to_string(), "2.675");
    }

    #[test]
    fn remainder_truncates_toward_zero() {
        assert_eq!(lit("5").rem(&lit("3")).unwrap().to_string(), "2");
        assert_eq!(lit("-5").rem(&lit("3")).unwrap().to_string(), "-2");
        assert_eq!(lit("5.5").rem(&lit("2")).unwrap().to_string(), "1.5");
        assert_eq!(lit("5").rem(&lit("0")).unwrap().to_string(), "5");
        assert_eq!(lit("-0").rem(&lit("7")).unwrap().to_string(), "-0");
        assert_eq!(lit("7.5").rem(&lit("-2")).unwrap().to_string(), "1.5");
        assert_eq!(lit("5").rem(&Number::infinity(false)).unwrap().to_string(), "+Inf");
        assert!(lit("0").rem(&Number::infinity(false)).is_err());
    }

    #[test]
    fn infinities_and_nan() {
        assert_eq!(lit("1").div(&lit("0")).unwrap().to_string(), "+Inf");
        assert_eq!(lit("-1").div(&lit("0")).unwrap().to_string(), "-Inf");
        assert_eq!(lit("0").div(&lit("0")).unwrap_err().to_string(), "can't divide zero by zero or infinity by infinity");
        let inf = Number::infinity(false);
        assert_eq!(inf.add(&inf.neg()).unwrap_err().to_string(), "can't compute sum of opposing infinities");
        assert_eq!(inf.sub(&inf).unwrap_err().to_string(), "can't subtract infinity from itself");
        assert_eq!(inf.mul(&lit("0")).unwrap_err().to_string(), "can't multiply zero by infinity");
        assert_eq!(inf.floor().unwrap().to_string(), "+Inf");
        assert_eq!(lit("1").div(&inf).unwrap().to_string(), "0");
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(lit("-1.5").floor().unwrap().to_string(), "-2");
        assert_eq!(lit("-1.5").ceil().unwrap().to_string(), "-1");
        assert_eq!(lit("1.5").floor().unwrap().to_string(), "1");
        assert_eq!(lit("-0.5").ceil().unwrap().to_string(), "0");
        assert_eq!(lit("1e30").floor().unwrap().to_string(), "1000000000000000000000000000000");
        assert_eq!(lit("4").to_i64(), Some(4));
        assert_eq!(lit("4.5").to_i64(), None);
        assert_eq!(lit("1e30").to_i64(), None);
        assert_eq!(lit("18446744073709551615").to_u64(), Some(u64::MAX));
        assert_eq!(lit("-1").to_u64(), None);
        assert_eq!(Number::from(u64::MAX).to_string(), "18446744073709551615");
        assert_eq!(Number::from(i64::MIN).to_string(), "-9223372036854775808");
        assert_eq!(lit("2").mul(&lit("1e30")).unwrap().integer_digits(16).as_deref(), Some("193e5939a08ce9dbd480000000"));
    }

    #[test]
    fn order_and_equality() {
        assert!(lit("0.1").cmp_value(&lit("0.2")).is_lt());
        assert!(lit("-3").cmp_value(&lit("2.5")).is_lt());
        assert!(Number::infinity(true).cmp_value(&lit("-1e300")).is_lt());
        assert!(lit("1e30").cmp_value(&lit("999999999999999999999999999999")).is_gt());
        assert_eq!(lit("0").cmp_value(&lit("-0")), Ordering::Equal);
        assert_ne!(lit("1"), lit("1.0000000000000000000001"));
        assert_eq!(lit("2"), float(2.0));
    }

    #[test]
    fn conversions_to_f64() {
        assert_eq!(lit("0.1").to_f64(), 0.1);
        assert_eq!(lit("1").div(&lit("3")).unwrap().to_f64(), 1.0 / 3.0);
        assert_eq!(lit("1e300").mul(&lit("1e300")).unwrap().to_f64(), f64::INFINITY);
        assert_eq!(lit("-2.5e-300").to_f64(), -2.5e-300);
        assert_eq!(lit("5e-324").to_f64(), 5e-324);
    }

    #[test]
    fn pathological_magnitudes_fail_fast() {
        assert_eq!(Number::parse("1e999999999"), Some(Err(NumberError::OutOfRange)));
        assert_eq!(Number::parse("1e-99999999999999999999"), Some(Err(NumberError::OutOfRange)));
        assert_eq!(Number::parse("0e999999999"), Some(Ok(Number::ZERO)));
        let big = lit("1e5000");
        assert_eq!(big.mul(&big), Err(NumberError::OutOfRange));
        assert!(lit("1e9000").to_string().starts_with("1000"));
    }
}
