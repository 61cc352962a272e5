//! The command line's contract: watchlist errors, init, check.

mod common;

use common::*;

#[test]
fn the_example_watchlist_is_valid() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/veille.example.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .arg("--config")
        .arg(&example)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // And the library agrees, with its profiles and channels compiled.
    let config = veille::config::load(&example).unwrap();
    assert!(!config.sources.is_empty());
    assert!(config.profiles.iter().all(|p| !p.channels.is_empty()));
}

#[test]
fn check_prints_every_problem_and_exits_3() {
    let sb = Sandbox::new(
        r#"[[board]]
name = "a"
feed = "ftp://example.org/x"
every = "often"

[[board]]
name = "a"
feed = "https://example.org/y"
schedule = "0 8 * * 9"

[[profile]]
name = "p"
query = '"unclosed'
sources = ["zzz"]
colour = "red"
"#,
    );
    let out = sb.run(&["check"]);
    assert_eq!(code(&out), 3);
    let err = stderr(&out);
    let file = sb.path("veille.toml").display().to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 6, "{err}");
    for l in &lines {
        assert!(l.starts_with(&format!("{file}:")), "{l}");
    }
    for needle in [
        ":9:8: `ftp://example.org/x` is not an http(s) URL",
        ":10:9: `often` is not a duration",
        ":13:8: the name `a` is already used",
        ":15:12: invalid day-of-week",
        ":19:10: in the query: unclosed quote",
        ":20:12: no board or company is named `zzz`",
        ":21:1: unknown key `colour`",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
    assert!(stdout(&out).is_empty());
    // check opened no store.
    assert!(!sb.path("state").exists());
}

#[test]
fn a_missing_watchlist_suggests_init() {
    let sb = Sandbox::new("");
    std::fs::remove_file(sb.path("veille.toml")).unwrap();
    let out = sb.run(&["check"]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("veille init"), "{}", stderr(&out));
}

#[test]
fn init_writes_a_valid_starter_and_never_overwrites() {
    let sb = Sandbox::new("");
    let target = sb.path("new.toml");
    let t = target.to_str().unwrap();
    let out = sb.run(&["init", t]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let written = std::fs::read_to_string(&target).unwrap();
    let again = sb.run(&["init", t]);
    assert_eq!(code(&again), 1);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), written);
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args(["--config", t, "check"])
        .output()
        .unwrap();
    assert_eq!(code(&check), 0, "{}", stderr(&check));
}

#[test]
fn a_second_process_on_the_same_state_gets_a_clear_error() {
    let sb = Sandbox::new("");
    let _store = veille::store::Store::open(&sb.path("state")).unwrap();
    let out = sb.run(&["status"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("in use by another veille process"),
        "{}",
        stderr(&out)
    );
}
