//! The command line: arguments, the commands of the contract, their output
//! and exit codes. stdout carries results only; logs go to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::config::{self, Config, ConfigError};
use crate::fetch::Fetcher;
use crate::notify::{self, Delivered};
use crate::offer::Offer;
use crate::pipeline::{self, Outcome};
use std::sync::Arc;

use crate::store::{Store, StoreError};

/// The contract's exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    /// A runtime failure.
    Failure = 1,
    /// Bad command line, or an unknown source or profile name.
    Usage = 2,
    /// Invalid or missing watchlist.
    Config = 3,
    /// A poll or test-source finished, but a source failed.
    SourceFailed = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// The starter watchlist written by `veille init`: the documented example.
pub const STARTER: &str = include_str!("../config/veille.example.toml");

#[derive(Debug, Parser)]
#[command(
    name = "veille",
    version,
    about = "Watches job boards and feeds, and delivers the offers that match your profiles."
)]
pub struct Cli {
    /// The watchlist (default: $VEILLE_CONFIG, ./veille.toml, /etc/veille/veille.toml).
    #[arg(long, short = 'c', global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Where the store lives (default: daemon.state_dir, $STATE_DIRECTORY, ~/.local/state/veille).
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// More logs on stderr (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter watchlist (never overwrites).
    Init { path: Option<PathBuf> },
    /// Validate the watchlist (opens no store, needs no secret).
    Check,
    /// One cycle now: fetch, store, match, queue; print each new offer once.
    Poll {
        /// Only these boards or companies.
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// JSON Lines, one offer a line.
        #[arg(long)]
        json: bool,
    },
    /// Fetch and parse one board or company; print what it yields; store nothing.
    TestSource {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Deliver now everything queued for the profiles' channels.
    Digest {
        #[arg(long = "profile", value_name = "NAME")]
        profiles: Vec<String>,
        /// Print the digests and keep the queue.
        #[arg(long)]
        dry_run: bool,
    },
    /// Stored offers (or one profile's matches), newest first.
    Offers {
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// Only offers first seen this recently, e.g. 2d.
        #[arg(long, value_name = "DURATION", value_parser = parse_since)]
        since: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// Each source and channel: how it is doing.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// The daemon: poll on schedules, send digests on theirs (systemd Type=notify).
    Run,
}

fn parse_since(s: &str) -> Result<std::time::Duration, String> {
    config::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 2d, 12h"))
}

/// Runs the parsed command line in this process, or through the daemon's
/// control socket when `veille run` holds the store.
pub fn run(cli: Cli) -> Exit {
    match dispatch(&cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ce) = e.downcast_ref::<ConfigError>() {
                eprintln!("{ce}");
                return Exit::Config;
            }
            eprintln!("veille: {e:#}");
            Exit::Failure
        }
    }
}

/// What a command runs against: the compiled watchlist, and the store when
/// the command needs one. In the daemon, `work` serialises polls and
/// deliveries with the scheduler's.
pub struct Ctx {
    pub config: Arc<Config>,
    pub store: Option<Arc<Store>>,
    pub work: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A command's output, written by [`execute`]: stdout and stderr, kept apart.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub struct Output {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

fn dispatch(cli: &Cli) -> anyhow::Result<Exit> {
    let path = config::locate(cli.config.as_deref());
    match &cli.command {
        Command::Init { path: target } => return init(target.as_deref().or(cli.config.as_deref())),
        Command::Check => {
            let config = config::load(&path)?;
            let (n, p) = (config.sources.len(), config.profiles.len());
            println!(
                "{}: ok ({n} source{}, {p} profile{})",
                path.display(),
                plural(n),
                plural(p)
            );
            return Ok(Exit::Ok);
        }
        Command::Run => {
            let config = config::load(&path)?;
            let dir = config::state_dir(cli.state_dir.as_deref(), &config);
            return runtime()?.block_on(crate::daemon::run(path, dir, config));
        }
        _ => {}
    }
    let config = Arc::new(config::load(&path)?);
    let needs_store = !matches!(cli.command, Command::TestSource { .. });
    let mut store = None;
    if needs_store {
        let dir = config::state_dir(cli.state_dir.as_deref(), &config);
        match Store::open(&dir) {
            Ok(s) => store = Some(Arc::new(s)),
            Err(StoreError::Locked { dir, pid }) => {
                let socket = crate::daemon::socket_path(&dir);
                if socket.exists() {
                    let argv: Vec<String> = std::env::args().skip(1).collect();
                    let out = crate::daemon::request(&socket, &argv).with_context(|| {
                        format!("cannot reach the daemon at {}", socket.display())
                    })?;
                    print!("{}", out.stdout);
                    eprint!("{}", out.stderr);
                    return Ok(exit_from(out.code));
                }
                return Err(StoreError::Locked { dir, pid }.into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let cx = Ctx {
        config,
        store,
        work: None,
    };
    // Straight to stdout: `offers` and `poll --json` can be many megabytes.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut err = std::io::stderr();
    let code = runtime()?.block_on(execute_to(&cli.command, &cx, &mut out, &mut err));
    out.flush()?;
    Ok(code)
}

fn exit_from(code: u8) -> Exit {
    match code {
        0 => Exit::Ok,
        2 => Exit::Usage,
        3 => Exit::Config,
        4 => Exit::SourceFailed,
        _ => Exit::Failure,
    }
}

/// Runs a store or network command against `cx`, collecting its output.
pub async fn execute(command: &Command, cx: &Ctx) -> Output {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = execute_to(command, cx, &mut out, &mut err).await;
    Output {
        code: code as u8,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// Runs a command against `cx`, writing its output to `out` and `err`.
pub async fn execute_to<O: Write, E: Write>(
    command: &Command,
    cx: &Ctx,
    out: &mut O,
    err: &mut E,
) -> Exit {
    match run_command(command, cx, out, err).await {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "veille: {e:#}");
            Exit::Failure
        }
    }
}

fn store(cx: &Ctx) -> anyhow::Result<&Store> {
    cx.store.as_deref().context("this command needs the store")
}

async fn run_command<O: Write, E: Write>(
    command: &Command,
    cx: &Ctx,
    out: &mut O,
    err: &mut E,
) -> anyhow::Result<Exit> {
    let config = &cx.config;
    fn usage<E: Write>(err: &mut E, message: String) -> Exit {
        let _ = writeln!(err, "veille: {message}");
        Exit::Usage
    }
    let _work = match (&cx.work, command) {
        (Some(w), Command::Poll { .. } | Command::Digest { .. }) => Some(w.lock().await),
        _ => None,
    };
    match command {
        Command::Init { .. } | Command::Check | Command::Run => Ok(usage(
            err,
            "this command runs on its own, not through the daemon".into(),
        )),
        Command::Poll { sources, json } => {
            if let Some(bad) = unknown(sources, config.sources.iter().map(|s| s.name.as_str())) {
                return Ok(usage(err, format!("no board or company is named `{bad}`")));
            }
            let store = store(cx)?;
            let fetcher = Fetcher::new(&config.daemon).context("cannot build the HTTP client")?;
            let report = pipeline::poll(config, store, &fetcher, sources).await?;
            crate::daemon::deliver_immediate(config, store, &fetcher).await;
            for id in &report.new {
                if let Some(stored) = store.offer(id)? {
                    print_offer(out, &stored.offer, *json)?;
                }
            }
            if !json {
                let failed: Vec<_> = report
                    .outcomes
                    .iter()
                    .filter_map(|(n, o)| match o {
                        Outcome::Failed(r) => Some(format!("  {n}: {r}")),
                        _ => None,
                    })
                    .collect();
                writeln!(
                    out,
                    "{} new offer{}, {} match{}; {} source{} polled, {} failed",
                    report.new.len(),
                    plural(report.new.len()),
                    report.matches,
                    if report.matches == 1 { "" } else { "es" },
                    report.outcomes.len(),
                    plural(report.outcomes.len()),
                    failed.len()
                )?;
                for f in failed {
                    writeln!(out, "{f}")?;
                }
            }
            Ok(if report.failed() > 0 {
                Exit::SourceFailed
            } else {
                Exit::Ok
            })
        }
        Command::TestSource { name, json } => {
            let Some(source) = config.sources.iter().find(|s| &s.name == name) else {
                return Ok(usage(err, format!("no board or company is named `{name}`")));
            };
            let fetcher = Fetcher::new(&config.daemon).context("cannot build the HTTP client")?;
            let state = crate::store::SourceState::default();
            match crate::source::fetch(&fetcher, source, &state).await {
                Ok(y) => {
                    let y = y.unwrap_or_default();
                    let now = Utc::now();
                    for (n, item) in y.items.iter().enumerate() {
                        let offer = Offer::from_item(
                            item.clone(),
                            format!("{}-{}", source.name, n + 1),
                            now,
                            &source.name,
                        );
                        print_offer(out, &offer, *json)?;
                    }
                    if !json {
                        for note in &y.notes {
                            writeln!(out, "{}: {note}", source.name)?;
                        }
                        let url = if y.url.is_empty() {
                            source.url.to_string()
                        } else {
                            y.url.clone()
                        };
                        let n = y.items.len();
                        writeln!(
                            out,
                            "{}: {n} offer{} from {url} ({})",
                            source.name,
                            plural(n),
                            source.kind.key()
                        )?;
                    }
                    Ok(Exit::Ok)
                }
                Err(e) => {
                    writeln!(err, "{}: {e}", source.name)?;
                    Ok(Exit::SourceFailed)
                }
            }
        }
        Command::Digest { profiles, dry_run } => {
            if let Some(bad) = unknown(profiles, config.profiles.iter().map(|p| p.name.as_str())) {
                return Ok(usage(err, format!("no profile is named `{bad}`")));
            }
            let store = store(cx)?;
            let fetcher = Fetcher::new(&config.daemon).context("cannot build the HTTP client")?;
            let now = Utc::now();
            let mut failed = false;
            for profile in config
                .profiles
                .iter()
                .filter(|p| profiles.is_empty() || profiles.contains(&p.name))
            {
                for channel in &profile.channels {
                    match notify::deliver(config, store, &fetcher, profile, channel, now, *dry_run)
                        .await
                    {
                        Ok(Delivered::Nothing) => {
                            writeln!(out, "{} → {}: nothing to send", profile.name, channel.id)?
                        }
                        Ok(Delivered::Sent { offers, rendered }) if *dry_run => {
                            writeln!(
                                out,
                                "{} → {}: would send {offers} offer{}",
                                profile.name,
                                channel.id,
                                plural(offers)
                            )?;
                            if let Some(r) = rendered {
                                writeln!(out, "Subject: {}\n\n{}", r.subject, r.text)?;
                            }
                        }
                        Ok(Delivered::Sent { offers, .. }) => writeln!(
                            out,
                            "{} → {}: sent {offers} offer{}",
                            profile.name,
                            channel.id,
                            plural(offers)
                        )?,
                        Err(e) => {
                            failed = true;
                            writeln!(err, "{} → {}: {e}", profile.name, channel.id)?;
                        }
                    }
                }
            }
            Ok(if failed { Exit::Failure } else { Exit::Ok })
        }
        Command::Offers {
            profile,
            since,
            json,
        } => {
            if let Some(p) = profile
                && !config.profiles.iter().any(|x| &x.name == p)
            {
                return Ok(usage(err, format!("no profile is named `{p}`")));
            }
            let store = store(cx)?;
            let cutoff = since
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .map(|d| Utc::now() - d);
            for stored in store.offers_newest() {
                let stored = stored?;
                if cutoff.is_some_and(|c| stored.offer.first_seen < c) {
                    break;
                }
                if profile
                    .as_ref()
                    .is_some_and(|p| !stored.offer.matches.contains(p))
                {
                    continue;
                }
                print_offer(out, &stored.offer, *json)?;
            }
            Ok(Exit::Ok)
        }
        Command::Status { json } => {
            let status = status(config, store(cx)?)?;
            if *json {
                serde_json::to_writer(&mut *out, &status)?;
                writeln!(out)?;
            } else {
                print_status(out, &status)?;
            }
            Ok(Exit::Ok)
        }
    }
}

fn unknown<'a>(
    asked: &'a [String],
    known: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    asked
        .iter()
        .map(String::as_str)
        .find(|a| !known.clone().any(|k| k == *a))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn init(target: Option<&Path>) -> anyhow::Result<Exit> {
    let target = target
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("veille.toml"));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target);
    match file {
        Ok(mut f) => {
            f.write_all(STARTER.as_bytes())
                .with_context(|| format!("cannot write {}", target.display()))?;
            println!(
                "Wrote {}. Edit it, then run `veille --config {} check`.",
                target.display(),
                target.display()
            );
            Ok(Exit::Ok)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "veille: {} already exists; not overwriting it",
                target.display()
            );
            Ok(Exit::Failure)
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", target.display())),
    }
}

/// One offer: a JSON line, or a short readable block.
fn print_offer(out: &mut impl Write, offer: &Offer, json: bool) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, offer)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut head = format!("• {}", offer.title);
    if let Some(c) = &offer.company {
        head.push_str(&format!(" — {c}"));
    }
    if let Some(l) = &offer.location {
        head.push_str(&format!(" · {l}"));
    }
    writeln!(out, "{head}")?;
    if let Some(u) = &offer.url {
        writeln!(out, "  {u}")?;
    }
    let mut tail = format!("  seen on {}", offer.sources.join(", "));
    tail.push_str(&format!(
        ", first {}",
        offer.first_seen.format("%Y-%m-%d %H:%M UTC")
    ));
    if !offer.matches.is_empty() {
        tail.push_str(&format!(" · matches {}", offer.matches.join(", ")));
    }
    writeln!(out, "{tail}")?;
    Ok(())
}

/// `status --json`, in the contract's shape.
#[derive(Debug, Serialize)]
pub struct Status {
    pub sources: Vec<SourceStatus>,
    pub channels: Vec<ChannelStatus>,
}

#[derive(Debug, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub offers: u64,
    pub next_poll: Option<DateTime<Utc>>,
    /// Successful fetches in a row that yielded no offer.
    pub empty_fetches: u32,
    /// True after 5 such fetches: the page changed, or its selectors broke.
    pub suspect: bool,
}

#[derive(Debug, Serialize)]
pub struct ChannelStatus {
    pub profile: String,
    pub channel: String,
    pub queued: usize,
    pub failed: usize,
    pub last_delivery: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Successful fetches yielding nothing, in a row, before a source is flagged.
pub const SUSPECT_EMPTY_FETCHES: u32 = 5;

/// Gathers `status` from the store.
pub fn status(config: &Config, store: &Store) -> anyhow::Result<Status> {
    let mut sources = Vec::new();
    for s in &config.sources {
        let st = store.source_state(&s.name)?;
        let next_poll = st.last_poll.and_then(|last| {
            crate::schedule::next_poll(
                &s.when,
                config.daemon.timezone,
                last,
                st.consecutive_failures,
            )
        });
        sources.push(SourceStatus {
            name: s.name.clone(),
            kind: s.kind.key().to_string(),
            url: s.url.to_string(),
            last_poll: st.last_poll,
            last_success: st.last_success,
            last_error: st.last_error,
            consecutive_failures: st.consecutive_failures,
            offers: st.offers,
            next_poll: next_poll.map(|n| n.max(st.retry_after.unwrap_or(n))),
            empty_fetches: st.empty_fetches,
            suspect: st.empty_fetches >= SUSPECT_EMPTY_FETCHES,
        });
    }
    let mut channels = Vec::new();
    for p in &config.profiles {
        for c in &p.channels {
            let st = store.channel_state(&p.name, &c.id)?;
            channels.push(ChannelStatus {
                profile: p.name.clone(),
                channel: c.id.clone(),
                queued: store.count(false, &p.name, &c.id),
                failed: store.count(true, &p.name, &c.id),
                last_delivery: st.last_delivery,
                last_error: st.last_error,
            });
        }
    }
    Ok(Status { sources, channels })
}

fn print_status(out: &mut impl Write, s: &Status) -> anyhow::Result<()> {
    let when = |t: Option<DateTime<Utc>>| {
        t.map_or("never".to_string(), |t| {
            t.format("%Y-%m-%d %H:%M").to_string()
        })
    };
    writeln!(out, "Sources:")?;
    for s in &s.sources {
        let state = match (&s.last_error, s.last_poll) {
            (_, None) => "not polled yet".to_string(),
            (Some(e), _) => format!("FAILING ×{}: {e}", s.consecutive_failures),
            (None, _) if s.suspect => format!(
                "no offers in the last {} fetches: check it with `veille test-source {}`",
                s.empty_fetches, s.name
            ),
            (None, _) => "ok".to_string(),
        };
        writeln!(
            out,
            "  {:<20} {:<8} {} offers, last poll {}, next {}  {}",
            s.name,
            s.kind,
            s.offers,
            when(s.last_poll),
            s.next_poll.map_or("soon".to_string(), |t| t
                .format("%Y-%m-%d %H:%M")
                .to_string()),
            state
        )?;
    }
    writeln!(out, "Channels:")?;
    for c in &s.channels {
        writeln!(
            out,
            "  {:<12} {}: {} queued, {} failed, last delivery {}{}",
            c.profile,
            c.channel,
            c.queued,
            c.failed,
            when(c.last_delivery),
            c.last_error
                .as_deref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}
