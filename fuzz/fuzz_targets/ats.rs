#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| veille::fuzz::ats(data));
