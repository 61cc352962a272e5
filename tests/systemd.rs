//! The shipped unit: hardened to an exposure of at most 2.0, checked with
//! `systemd-analyze security --offline=yes` where systemd-analyze exists.

use std::path::Path;
use std::process::Command;

#[test]
fn the_unit_scores_an_exposure_of_at_most_2() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/veille.service");
    let Ok(out) = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&unit)
        .output()
    else {
        eprintln!("systemd-analyze is not installed: skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| {
            panic!(
                "no exposure line in:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the score in {line:?}"));
    assert!(score <= 2.0, "exposure {score} > 2.0:\n{text}");
}

#[test]
fn the_unit_is_notify_type_and_runs_the_daemon() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/veille.service"),
    )
    .unwrap();
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=veille",
        "RuntimeDirectory=veille",
        "ConfigurationDirectory=veille",
        "User=veille",
    ] {
        assert!(unit.lines().any(|l| l.trim() == line), "missing {line}");
    }
    assert!(unit.contains(" run\n"), "ExecStart must run the daemon");
}
