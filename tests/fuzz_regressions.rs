//! Every input a fuzz target ever failed on (`fuzz/regressions/TARGET/*`),
//! replayed through the same entry point (`veille::fuzz`) on stable Rust,
//! so a fixed crash stays fixed without nightly or cargo-fuzz.

use std::path::Path;

/// A fuzz target: its name (`fuzz/fuzz_targets/NAME.rs`) and entry point.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 5] = [
    ("feed", veille::fuzz::feed),
    ("page", veille::fuzz::page),
    ("ats", veille::fuzz::ats),
    ("query", veille::fuzz::query),
    ("watchlist", veille::fuzz::watchlist),
];

#[test]
fn fuzz_findings_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for entry in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        let dir = entry.expect("readable").path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let run = TARGETS
            .iter()
            .find(|(t, _)| *t == name)
            .unwrap_or_else(|| panic!("fuzz/regressions/{name}: no such fuzz target"))
            .1;
        for input in std::fs::read_dir(&dir).expect("readable") {
            let path = input.expect("readable").path();
            let data = std::fs::read(&path).expect("readable");
            // A panic here names the input: the crash is back.
            eprintln!("replaying {}", path.display());
            run(&data);
        }
    }
}
