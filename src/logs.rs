//! Logs with `tracing`: on stderr, readable in a terminal; under systemd
//! (`JOURNAL_STREAM` set) straight to the journal, so each level is a journal
//! priority (`journalctl -p warning` works), with no timestamps or colours of
//! our own. `RUST_LOG` overrides `-v`/`-q`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `verbose` counts `-v`, `quiet` is `-q`.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,veille={level}")));
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    if journald && let Ok(layer) = tracing_journald::layer() {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let layer = layer.with_syslog_identifier("veille".to_string());
        tracing_subscriber::registry()
            .with(filter)
            .with(layer)
            .init();
        return;
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if journald {
        builder.without_time().with_ansi(false).init();
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}
