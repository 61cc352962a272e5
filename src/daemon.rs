//! `veille run`: the long-running service.
//!
//! Owns the scheduler (each source on its own `every`/`schedule` with
//! backoff, each channel's digest on its cron schedule, catch-up of a digest
//! missed while stopped), the systemd protocol (`READY=1`, `WATCHDOG=1` from
//! the scheduler loop itself, `STATUS=`, `RELOADING=1`, `STOPPING=1`), SIGHUP
//! reload (all or nothing), SIGTERM/SIGINT drain, and the control socket
//! through which the other commands reach a running daemon. What a poll or a
//! delivery does is `pipeline`'s and `notify`'s.
//!
//! One worker runs jobs (a poll of the due sources, then the due digests)
//! one at a time, so polls of a source never overlap and a digest never
//! races the poll that queues into it; the loop that schedules them only
//! reads the store and pings the watchdog.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, RwLock, watch};
use tracing::{error, info, warn};

use crate::cli::{Cli, Ctx, Exit, Output};
use crate::config::{self, Config, Profile};
use crate::fetch::Fetcher;
use crate::metrics::Metrics;
use crate::notify;
use crate::pipeline;
use crate::schedule;
use crate::store::Store;

/// How long in-flight work may take to finish after SIGTERM.
pub const DRAIN: Duration = Duration::from_secs(10);
/// The scheduler's tick.
const TICK: Duration = Duration::from_secs(1);
/// Longest wait before retrying a failed delivery.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);
/// First retry of a failed delivery.
const FIRST_RETRY: Duration = Duration::from_secs(60);

/// Where the control socket is: `$RUNTIME_DIRECTORY`, else the state directory.
pub fn socket_path(state_dir: &Path) -> PathBuf {
    config::systemd_dir("RUNTIME_DIRECTORY")
        .unwrap_or_else(|| state_dir.to_path_buf())
        .join("control.sock")
}

/// Sends one command line to the daemon and returns what it printed.
pub fn request(socket: &Path, argv: &[String]) -> anyhow::Result<Output> {
    use std::io::{BufRead, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    let mut line = serde_json::to_vec(&serde_json::json!({ "argv": argv }))?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut reader = std::io::BufReader::new(stream);
    let mut answer = String::new();
    reader.read_line(&mut answer)?;
    serde_json::from_str(&answer).context("the daemon's answer is not valid")
}

/// Delivers the channels that go out after every poll (webhooks without a
/// schedule, Atom files). Failures stay queued; they are logged by `notify`.
/// Returns each attempt's outcome label.
pub async fn deliver_immediate(
    config: &Config,
    store: &Store,
    fetcher: &Fetcher,
) -> Vec<&'static str> {
    let now = Utc::now();
    let mut outcomes = Vec::new();
    for profile in &config.profiles {
        for channel in profile.channels.iter().filter(|c| c.immediate) {
            let r = notify::deliver(config, store, fetcher, profile, channel, now, false).await;
            outcomes.push(outcome_label(&r));
        }
    }
    outcomes
}

/// Shared between the loop, the worker, the control socket and the endpoint.
struct Shared {
    config: Arc<RwLock<Arc<Config>>>,
    store: Arc<Store>,
    work: Arc<Mutex<()>>,
    metrics: Arc<Metrics>,
}

/// Runs the daemon until SIGTERM/SIGINT.
pub async fn run(path: PathBuf, state_dir: PathBuf, config: Config) -> anyhow::Result<Exit> {
    let store = Arc::new(Store::open(&state_dir)?);
    let http = config.http;
    let shared = Arc::new(Shared {
        config: Arc::new(RwLock::new(Arc::new(config))),
        store,
        work: Arc::new(Mutex::new(())),
        metrics: Arc::new(Metrics::new()),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    // Read at start; changing `listen` needs a restart.
    if let Some(addr) = http {
        let ep = Arc::new(crate::metrics::Endpoint {
            config: shared.config.clone(),
            store: shared.store.clone(),
            metrics: shared.metrics.clone(),
        });
        tokio::spawn(crate::metrics::serve(addr, ep, stop_rx.clone()));
        info!(listen = %addr, "Serving /healthz, /metrics and /feeds/PROFILE.atom.");
    }

    let socket = socket_path(&state_dir);
    let control = match bind_control(&socket) {
        Ok(listener) => Some(tokio::spawn(control_loop(
            listener,
            shared.clone(),
            stop_rx.clone(),
        ))),
        Err(e) => {
            warn!(socket = %socket.display(), error = %e, "No control socket; other commands cannot reach the daemon.");
            None
        }
    };

    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;

    let watchdog = sd_notify::watchdog_enabled();
    let watchdog_every = watchdog.map_or(TICK, |d| (d / 2).max(Duration::from_millis(500)));
    let mut last_ping = tokio::time::Instant::now();

    let mut due = initial_due(
        &shared.config.read().await.clone(),
        &shared.store,
        Utc::now(),
    );
    let mut job: Option<tokio::task::JoinHandle<()>> = None;
    notify_systemd(&[sd_notify::NotifyState::Ready]);
    set_status(&shared).await;
    info!(watchlist = %path.display(), state = %state_dir.display(), "veille is running.");

    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let tick_at = Utc::now();
                shared.metrics.last_tick.store(tick_at.timestamp(), std::sync::atomic::Ordering::Relaxed);
                let earliest = due.values().min().map_or(i64::MAX, |t| t.timestamp());
                shared.metrics.next_due.store(earliest, std::sync::atomic::Ordering::Relaxed);
                if watchdog.is_some() && last_ping.elapsed() >= watchdog_every {
                    notify_systemd(&[sd_notify::NotifyState::Watchdog]);
                    last_ping = tokio::time::Instant::now();
                }
                if job.as_ref().is_some_and(|j| !j.is_finished()) {
                    continue;
                }
                if job.take().is_some() {
                    set_status(&shared).await;
                }
                let config = shared.config.read().await.clone();
                let now = Utc::now();
                let sources: Vec<String> = due
                    .iter()
                    .filter(|(_, at)| **at <= now)
                    .map(|(n, _)| n.clone())
                    .collect();
                let digests = due_digests(&config, &shared.store, now);
                if sources.is_empty() && digests.is_empty() {
                    continue;
                }
                for name in &sources {
                    // Pushed back until the poll reports; recomputed after it.
                    due.insert(name.clone(), now + chrono::Duration::hours(24));
                }
                job = Some(tokio::spawn(work(shared.clone(), sources, digests)));
            }
            _ = sighup.recv() => {
                match sd_notify::NotifyState::monotonic_usec_now() {
                    Ok(now) => notify_systemd(&[sd_notify::NotifyState::Reloading, now]),
                    Err(_) => notify_systemd(&[sd_notify::NotifyState::Reloading]),
                }
                match config::load(&path) {
                    Ok(new) => {
                        let now = Utc::now();
                        let fresh = initial_due(&new, &shared.store, now);
                        due.retain(|name, _| fresh.contains_key(name));
                        for (name, at) in fresh {
                            due.entry(name).or_insert(at);
                        }
                        info!(sources = new.sources.len(), profiles = new.profiles.len(), "Reloaded the watchlist.");
                        *shared.config.write().await = Arc::new(new);
                    }
                    Err(e) => {
                        for line in e.to_string().lines() {
                            error!("{line}");
                        }
                        error!("The watchlist is invalid; still running with the previous one.");
                    }
                }
                notify_systemd(&[sd_notify::NotifyState::Ready]);
                set_status(&shared).await;
            }
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        }
        // Sources just polled get their next time from their new state.
        if job.as_ref().is_some_and(|j| j.is_finished()) {
            let config = shared.config.read().await.clone();
            refresh_due(&config, &shared.store, &mut due);
        }
    }

    info!("Stopping.");
    notify_systemd(&[sd_notify::NotifyState::Stopping]);
    let _ = stop_tx.send(true);
    if let Some(j) = job
        && tokio::time::timeout(DRAIN, j).await.is_err()
    {
        warn!("In-flight work did not finish in time; abandoned (nothing reported was lost).");
    }
    if let Some(c) = control {
        c.abort();
    }
    let _ = std::fs::remove_file(&socket);
    shared.store.flush()?;
    info!("Stopped.");
    Ok(Exit::Ok)
}

/// One job: poll the due sources, deliver immediate channels, then the due digests.
async fn work(shared: Arc<Shared>, sources: Vec<String>, digests: Vec<(String, String)>) {
    let _guard = shared.work.lock().await;
    let config = shared.config.read().await.clone();
    let fetcher = match Fetcher::new(&config.daemon) {
        Ok(f) => f,
        Err(e) => {
            error!(error = %e, "Cannot build the HTTP client.");
            return;
        }
    };
    if !sources.is_empty() {
        let started = std::time::Instant::now();
        match pipeline::poll(&config, &shared.store, &fetcher, &sources).await {
            Ok(report) => shared
                .metrics
                .poll(&report, started.elapsed().as_secs_f64()),
            Err(e) => error!(error = %e, "The poll could not be stored."),
        }
        for outcome in deliver_immediate(&config, &shared.store, &fetcher).await {
            shared.metrics.delivery(outcome);
        }
    }
    let now = Utc::now();
    for (profile, channel) in digests {
        let Some(p) = config.profiles.iter().find(|p| p.name == profile) else {
            continue;
        };
        let Some(c) = p.channels.iter().find(|c| c.id == channel) else {
            continue;
        };
        let r = notify::deliver(&config, &shared.store, &fetcher, p, c, now, false).await;
        shared.metrics.delivery(outcome_label(&r));
    }
}

/// A delivery's outcome, as a metrics label.
fn outcome_label(r: &Result<notify::Delivered, notify::DeliveryError>) -> &'static str {
    match r {
        Ok(notify::Delivered::Nothing) => "nothing",
        Ok(notify::Delivered::Sent { .. }) => "delivered",
        Err(notify::DeliveryError::Refused(_)) => "refused",
        Err(_) => "failed",
    }
}

/// A source's spread: a twentieth of its interval (at most 30 s), stable
/// per name, so hundreds of sources on one interval do not fire in the same
/// instant.
fn jitter(name: &str, interval: Duration) -> chrono::Duration {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let span = (interval.as_millis() as u64 / 20).clamp(1, 30_000);
    chrono::Duration::milliseconds((h % span) as i64)
}

fn interval_of(when: &config::When) -> Duration {
    match when {
        config::When::Every(d) => *d,
        config::When::Schedule(_) => Duration::from_secs(60),
    }
}

/// At start (and for sources added by a reload): soon, staggered.
fn initial_due(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> HashMap<String, DateTime<Utc>> {
    let mut due = HashMap::new();
    for (i, s) in config.sources.iter().enumerate() {
        let stagger = chrono::Duration::milliseconds((i as i64 * 100).min(60_000));
        // Within a second of its turn: soon after start, not all at once.
        let mut at = now + stagger + jitter(&s.name, Duration::from_secs(20));
        // A scheduled source keeps its schedule; a failing one its backoff.
        if let Ok(st) = store.source_state(&s.name)
            && let Some(last) = st.last_poll
            && (matches!(s.when, config::When::Schedule(_)) || st.consecutive_failures > 0)
            && let Some(next) = schedule::next_poll(
                &s.when,
                config.daemon.timezone,
                last,
                st.consecutive_failures,
            )
        {
            at = at.max(next);
        }
        due.insert(s.name.clone(), at);
    }
    due
}

/// After a poll: each polled source's next time, from its stored state.
fn refresh_due(config: &Config, store: &Store, due: &mut HashMap<String, DateTime<Utc>>) {
    for s in &config.sources {
        let Ok(st) = store.source_state(&s.name) else {
            continue;
        };
        if let Some(last) = st.last_poll
            && let Some(next) = schedule::next_poll(
                &s.when,
                config.daemon.timezone,
                last,
                st.consecutive_failures,
            )
        {
            let at =
                (next + jitter(&s.name, interval_of(&s.when))).max(st.retry_after.unwrap_or(next));
            due.entry(s.name.clone())
                .and_modify(|d| {
                    // Only move a source that was polled (its `last` is new).
                    if *d > at || *d > Utc::now() + chrono::Duration::hours(23) {
                        *d = at;
                    }
                })
                .or_insert(at);
        }
    }
}

/// Scheduled channels whose time has come: their cron fired since the last
/// run (a digest missed while stopped is sent once), or a failed delivery's
/// retry is due.
fn due_digests(config: &Config, store: &Store, now: DateTime<Utc>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in &config.profiles {
        for c in p.channels.iter().filter(|c| !c.immediate) {
            if channel_due(config, store, p, c, now) {
                out.push((p.name.clone(), c.id.clone()));
            }
        }
    }
    out
}

fn channel_due(
    config: &Config,
    store: &Store,
    p: &Profile,
    c: &config::Channel,
    now: DateTime<Utc>,
) -> bool {
    let Ok(st) = store.channel_state(&p.name, &c.id) else {
        return false;
    };
    if st.last_error.is_some() && store.count(false, &p.name, &c.id) > 0 {
        let backoff = FIRST_RETRY
            .checked_mul(1 << st.attempts.clamp(1, 16).saturating_sub(1))
            .unwrap_or(MAX_RETRY)
            .min(MAX_RETRY);
        let last = st.last_attempt.unwrap_or(now);
        // The receiver's Retry-After (429/503) wins when it asks for longer.
        let not_before = st.retry_after.unwrap_or(last);
        return chrono::Duration::from_std(backoff)
            .is_ok_and(|b| (last + b).max(not_before) <= now);
    }
    // A channel never run starts counting now: its first digest is at its
    // next firing, not immediately.
    let Some(last) = st.last_run.or(st.last_attempt) else {
        let mut w = store.writer();
        let mut st = st;
        st.last_run = Some(now);
        if w.put_channel_state(&p.name, &c.id, &st)
            .and_then(|_| w.commit())
            .is_err()
        {
            warn!(profile = %p.name, channel = %c.id, "Cannot record the channel's start.");
        }
        return false;
    };
    c.schedule
        .next_after(last, config.daemon.timezone)
        .is_some_and(|next| next <= now)
}

fn bind_control(socket: &Path) -> std::io::Result<tokio::net::UnixListener> {
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A socket left by a crashed daemon: we hold the store lock, so it is stale.
    let _ = std::fs::remove_file(socket);
    let listener = tokio::net::UnixListener::bind(socket)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

async fn control_loop(
    listener: tokio::net::UnixListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            conn = listener.accept() => {
                let Ok((stream, _)) = conn else { continue };
                tokio::spawn(serve_control(stream, shared.clone()));
            }
            _ = stop.changed() => return,
        }
    }
}

/// One request: `{"argv": [...]}` → `{"code", "stdout", "stderr"}`.
async fn serve_control(stream: tokio::net::UnixStream, shared: Arc<Shared>) {
    let (r, mut w) = stream.into_split();
    let mut line = String::new();
    if BufReader::new(r).read_line(&mut line).await.is_err() {
        return;
    }
    #[derive(serde::Deserialize)]
    struct Request {
        argv: Vec<String>,
    }
    let output = match serde_json::from_str::<Request>(&line) {
        Ok(req) => {
            let args = std::iter::once("veille".to_string()).chain(req.argv);
            match <Cli as clap::Parser>::try_parse_from(args) {
                Ok(cli) => {
                    let cx = Ctx {
                        config: shared.config.read().await.clone(),
                        store: Some(shared.store.clone()),
                        work: Some(shared.work.clone()),
                    };
                    crate::cli::execute(&cli.command, &cx).await
                }
                Err(e) => Output {
                    code: Exit::Usage as u8,
                    stdout: String::new(),
                    stderr: e.to_string(),
                },
            }
        }
        Err(e) => Output {
            code: Exit::Usage as u8,
            stdout: String::new(),
            stderr: format!("veille: bad control request: {e}\n"),
        },
    };
    if let Ok(mut bytes) = serde_json::to_vec(&output) {
        bytes.push(b'\n');
        let _ = w.write_all(&bytes).await;
    }
}

async fn set_status(shared: &Shared) {
    let config = shared.config.read().await.clone();
    let failing = config
        .sources
        .iter()
        .filter(|s| {
            shared
                .store
                .source_state(&s.name)
                .is_ok_and(|st| st.consecutive_failures > 0)
        })
        .count();
    let queued: usize = config
        .profiles
        .iter()
        .flat_map(|p| p.channels.iter().map(move |c| (p, c)))
        .map(|(p, c)| shared.store.count(false, &p.name, &c.id))
        .sum();
    let status = format!(
        "{} sources ({failing} failing), {} profiles, {queued} matches queued",
        config.sources.len(),
        config.profiles.len()
    );
    notify_systemd(&[sd_notify::NotifyState::Status(&status)]);
}

fn notify_systemd(states: &[sd_notify::NotifyState<'_>]) {
    // Not under systemd (no NOTIFY_SOCKET): nothing to do.
    let _ = sd_notify::notify(states);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn config(text: &str) -> Config {
        config::compile(Path::new("w.toml"), text).unwrap()
    }

    const WATCHLIST: &str = r#"[daemon]
timezone = "Europe/Paris"
[[board]]
name = "fast"
feed = "https://a.example/fast.rss"
every = "15m"
[[board]]
name = "slow"
feed = "https://a.example/slow.rss"
every = "6h"
[[profile]]
name = "p"
[[profile.notify]]
maildir = "Maildir"
schedule = "0 8 * * *"
"#;

    #[test]
    fn a_digest_missed_while_stopped_is_caught_up_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = config(WATCHLIST);
        let (p, ch) = (&c.profiles[0], &c.profiles[0].channels[0]);
        // Last run the day before yesterday at 08:00 Paris; now 09:30 Paris.
        let last = Utc.with_ymd_and_hms(2026, 11, 19, 7, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 8, 30, 0).unwrap();
        let mut w = store.writer();
        let st = crate::store::ChannelState {
            last_run: Some(last),
            ..Default::default()
        };
        w.put_channel_state(&p.name, &ch.id, &st).unwrap();
        w.commit().unwrap();
        assert!(
            channel_due(&c, &store, p, ch, now),
            "two missed firings: due now"
        );
        // Sent (or found empty) now: the next is tomorrow 08:00, not again today.
        let mut w = store.writer();
        let st = crate::store::ChannelState {
            last_run: Some(now),
            ..Default::default()
        };
        w.put_channel_state(&p.name, &ch.id, &st).unwrap();
        w.commit().unwrap();
        assert!(!channel_due(
            &c,
            &store,
            p,
            ch,
            now + chrono::Duration::hours(12)
        ));
        let tomorrow_8 = Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, 0).unwrap();
        assert!(channel_due(&c, &store, p, ch, tomorrow_8));
    }

    #[test]
    fn a_failed_delivery_is_retried_with_backoff_and_retry_after() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = config(WATCHLIST);
        let (p, ch) = (&c.profiles[0], &c.profiles[0].channels[0]);
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let mut w = store.writer();
        let entry = crate::store::QueueEntry {
            offer: "x".into(),
            queued: now,
        };
        w.enqueue(&p.name, &ch.id, &entry).unwrap();
        let mut st = crate::store::ChannelState {
            last_attempt: Some(now),
            last_error: Some("HTTP 503".into()),
            attempts: 1,
            ..Default::default()
        };
        w.put_channel_state(&p.name, &ch.id, &st).unwrap();
        w.commit().unwrap();
        assert!(!channel_due(
            &c,
            &store,
            p,
            ch,
            now + chrono::Duration::seconds(30)
        ));
        assert!(channel_due(
            &c,
            &store,
            p,
            ch,
            now + chrono::Duration::seconds(61)
        ));
        // The receiver asked for two hours: nothing before.
        st.retry_after = Some(now + chrono::Duration::hours(2));
        let mut w = store.writer();
        w.put_channel_state(&p.name, &ch.id, &st).unwrap();
        w.commit().unwrap();
        assert!(!channel_due(
            &c,
            &store,
            p,
            ch,
            now + chrono::Duration::minutes(90)
        ));
        assert!(channel_due(
            &c,
            &store,
            p,
            ch,
            now + chrono::Duration::hours(2)
        ));
    }

    #[test]
    fn a_new_channel_waits_for_its_first_firing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = config(WATCHLIST);
        let (p, ch) = (&c.profiles[0], &c.profiles[0].channels[0]);
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        assert!(!channel_due(&c, &store, p, ch, now));
        assert!(!channel_due(
            &c,
            &store,
            p,
            ch,
            now + chrono::Duration::hours(1)
        ));
        assert!(channel_due(
            &c,
            &store,
            p,
            ch,
            Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, 0).unwrap()
        ));
    }

    #[test]
    fn sources_are_polled_at_their_own_rates_and_staggered_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let c = config(WATCHLIST);
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let due = initial_due(&c, &store, now);
        // Both soon after start, not together, not an interval later.
        assert!(due["fast"] >= now && due["fast"] < now + chrono::Duration::seconds(2));
        assert!(due["slow"] > now && due["slow"] < now + chrono::Duration::seconds(2));
        // After a poll at `now`, each comes back after its own interval (plus a small spread).
        let mut w = store.writer();
        for name in ["fast", "slow"] {
            let st = crate::store::SourceState {
                last_poll: Some(now),
                ..Default::default()
            };
            w.put_source_state(name, &st).unwrap();
        }
        w.commit().unwrap();
        let mut due = due;
        due.insert("fast".into(), now + chrono::Duration::hours(24));
        due.insert("slow".into(), now + chrono::Duration::hours(24));
        refresh_due(&c, &store, &mut due);
        let fast = due["fast"] - now;
        let slow = due["slow"] - now;
        assert!(
            fast >= chrono::Duration::minutes(15) && fast < chrono::Duration::minutes(16),
            "{fast}"
        );
        assert!(
            slow >= chrono::Duration::hours(6) && slow < chrono::Duration::minutes(361),
            "{slow}"
        );
    }

    #[test]
    fn a_failing_source_backs_off_up_to_a_day() {
        let c = config(WATCHLIST);
        let last = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let when = &c.sources[0].when;
        let gaps: Vec<i64> = (0..12)
            .map(|f| {
                (schedule::next_poll(when, c.daemon.timezone, last, f).unwrap() - last)
                    .num_minutes()
            })
            .collect();
        assert_eq!(&gaps[..5], &[15, 15, 30, 60, 120]);
        assert!(gaps.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*gaps.last().unwrap(), 24 * 60);
    }
}
