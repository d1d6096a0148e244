//! bake's numbers against results printed by Go's math/big performing
//! cty's operations (the header of number_vectors.txt says how), so that
//! templates compute and print numbers exactly as Packer does.

use bake_lang::Number;

fn lit(text: &str) -> Number {
    Number::parse(text).expect("a number literal").expect("in range")
}

/// Go's `Text('f', 2)`: the exact value rounded to two decimals.
fn fixed2(n: &Number) -> String {
    let mut d = n.exact_decimal().expect("finite");
    d.round(d.exp + 2);
    let mut out = String::from(if n.is_sign_negative() { "-" } else { "" });
    d.write_fixed(&mut out, 2);
    out
}

#[test]
fn operations_print_what_go_math_big_prints() {
    let text = include_str!("number_vectors.txt");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(' ').collect();
        let (op, expected) = (fields[0], fields[fields.len() - 1]);
        let binary =
            |f: fn(&Number, &Number) -> Result<Number, bake_lang::number::NumberError>| f(&lit(fields[1]), &lit(fields[2])).expect("a result").to_string();
        let got = match op {
            "lit" => lit(fields[1]).to_string(),
            "add" => binary(Number::add),
            "sub" => binary(Number::sub),
            "mul" => binary(Number::mul),
            "div" => binary(Number::div),
            "mod" => binary(Number::rem),
            "f2" => fixed2(&lit(fields[1])),
            "f64" => Number::from_f64(lit(fields[1]).to_f64()).expect("not NaN").to_string(),
            "idiv" => {
                let int = |t: &str| Number::from(t.parse::<i64>().expect("an integer"));
                int(fields[1]).div(&int(fields[2])).expect("a quotient").to_string()
            }
            other => panic!("unknown operation {other} in: {line}"),
        };
        checked += 1;
        if got != expected {
            wrong.push(format!("{line}\n  bake: {got}"));
        }
    }
    assert!(checked > 1000, "only {checked} cases");
    assert!(wrong.is_empty(), "{} of {checked} differ:\n{}", wrong.len(), wrong.join("\n"));
}
