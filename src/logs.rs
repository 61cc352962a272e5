//! Logs on stderr with `tracing`: readable in a terminal, plain under
//! systemd (no timestamps or colours when `JOURNAL_STREAM` is set, since the
//! journal adds its own). `RUST_LOG` overrides `-v`/`-q`.

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
