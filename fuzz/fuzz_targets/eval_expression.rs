#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bake_fuzz::lang::eval_expression(data));
