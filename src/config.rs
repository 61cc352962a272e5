//! The watchlist: read the TOML, then compile it into checked values.
//!
//! Owns: finding the watchlist and the state directory, every key's
//! validation, and reporting *every* problem as `FILE:LINE:COL: message`.
//! Nothing after this module parses a string from the watchlist again: URLs,
//! queries, schedules, durations and paths come out compiled.
//!
//! The document is read with `toml::de::DeTable`, which keeps the span of every
//! key and value; each table is walked by a [`Table`] reader that records a
//! problem and carries on, so one typo does not hide the next one.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use url::Url;

use crate::matcher::{Matcher, MatcherSet, Pattern, ProfileSpec, Query};
use crate::notify::digest::Language;
use crate::notify::email::Security;
use crate::notify::webhook::Format;
use crate::schedule::Schedule;
use crate::source::ats::{self, Ats};
use crate::source::page::Selectors;

/// Default poll interval of a source.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30 * 60);
/// Default number of sources fetched at once.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Default least gap between two requests to one host.
pub const DEFAULT_PER_HOST_DELAY: Duration = Duration::from_secs(1);
/// Default cap on a response body, after decompression.
pub const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;
/// Default whole-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default retention of offers, counted from first seen.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(180 * 86_400);
/// Default schedule of digest channels (email, maildir).
pub const DEFAULT_DIGEST_SCHEDULE: &str = "0 8 * * *";
/// Default cap on offers shown in full in one digest.
pub const DEFAULT_MAX_OFFERS: usize = 50;
/// Where the watchlist is looked for last.
pub const SYSTEM_WATCHLIST: &str = "/etc/veille/veille.toml";

/// A compiled watchlist.
#[derive(Debug, Clone)]
pub struct Config {
    /// The watchlist file this came from.
    pub path: PathBuf,
    pub daemon: Daemon,
    pub smtp: Option<SmtpConfig>,
    /// `[http] listen`: where the daemon serves /healthz, /metrics and feeds.
    pub http: Option<std::net::SocketAddr>,
    /// Boards and companies, in file order.
    pub sources: Vec<Source>,
    pub profiles: Vec<Profile>,
    /// Each profile's criteria, in the order of `profiles`, compiled
    /// together so that terms they share are searched once per offer.
    pub matchers: MatcherSet,
}

/// `[daemon]`.
#[derive(Debug, Clone)]
pub struct Daemon {
    pub state_dir: Option<PathBuf>,
    pub timezone: Tz,
    pub language: Language,
    pub every: Duration,
    pub concurrency: usize,
    pub per_host_delay: Duration,
    pub user_agent: String,
    pub max_body: u64,
    pub timeout: Duration,
    pub retention: Duration,
}

/// One board or company.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    /// The URL fetched.
    pub url: Url,
    pub when: When,
    /// For a `[[company]]`: its name, the company of offers that name none.
    pub company: Option<String>,
}

/// What a source is, and so which adapter reads it.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// RSS, Atom or JSON Feed.
    Feed,
    /// A Mastodon hashtag or account, read through the instance's public RSS.
    Mastodon,
    /// A Bluesky profile's RSS; a handle is resolved to its DID first.
    Bluesky { handle: Option<String> },
    /// An HTML job board: JSON-LD JobPostings, and the selectors if given.
    Page(Option<Selectors>),
    /// A company's careers page: JSON-LD JobPostings, and the selectors if given.
    Careers(Option<Selectors>),
    /// An applicant-tracking system's public API. `detected` when the
    /// watchlist gave a careers URL on that ATS's board.
    Ats { ats: Ats, detected: bool },
}

impl SourceKind {
    /// The watchlist key of this kind, as shown by `status`.
    pub fn key(&self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::Mastodon => "mastodon",
            SourceKind::Bluesky { .. } => "bluesky",
            SourceKind::Page(_) => "page",
            SourceKind::Careers(_) => "careers",
            SourceKind::Ats { ats, .. } => ats.key(),
        }
    }

    /// Whether robots.txt applies (pages a person would browse, not APIs or feeds).
    pub fn honours_robots(&self) -> bool {
        matches!(self, SourceKind::Page(_) | SourceKind::Careers(_))
    }
}

/// When a source is polled.
#[derive(Debug, Clone)]
pub enum When {
    Every(Duration),
    Schedule(Schedule),
}

/// One `[[profile]]`.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// Names of the sources this profile reads; `None` = all.
    pub sources: Option<Vec<String>>,
    pub backfill: Duration,
    pub channels: Vec<Channel>,
    /// `contracts`: any of these kinds (empty: any).
    pub contracts: Vec<String>,
    /// `remote_only`: only offers known to be remote.
    pub remote_only: bool,
    /// `min_salary`: offers paying less (same currency) are dropped.
    pub min_salary: Option<MinSalary>,
    /// `salary_required`: offers without a salary are dropped.
    pub salary_required: bool,
}

/// `min_salary = { amount = 30000, currency = "EUR", period = "year" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct MinSalary {
    pub amount: f64,
    pub currency: String,
    pub period: String,
}

/// Rough hours in a period, to compare pay given per hour, day, month or year.
fn hours_in(period: &str) -> Option<f64> {
    Some(match period {
        "hour" => 1.0,
        "day" => 7.0,
        "week" => 35.0,
        "month" => 151.67,
        "year" => 1607.0,
        _ => return None,
    })
}

impl Profile {
    /// The profile's filters on structured fields (contract, remote,
    /// salary); the text query is the matcher's. An offer without a
    /// contract passes `contracts`; one without a salary passes `min_salary`
    /// unless `salary_required`; a salary in another currency passes (no
    /// exchange rates here).
    pub fn admits(&self, offer: &crate::offer::Offer) -> bool {
        if self.remote_only && offer.remote != Some(true) {
            return false;
        }
        if !self.contracts.is_empty()
            && let Some(c) = &offer.contract
            && !self.contracts.iter().any(|x| x == c)
        {
            return false;
        }
        match (&offer.salary, &self.min_salary) {
            (None, _) if self.salary_required => false,
            (Some(pay), Some(min)) => {
                let best = pay.max.or(pay.min);
                let same = pay
                    .currency
                    .as_deref()
                    .is_none_or(|c| c.eq_ignore_ascii_case(&min.currency));
                match (
                    best,
                    same,
                    pay.period.as_deref().and_then(hours_in),
                    hours_in(&min.period),
                ) {
                    (Some(amount), true, Some(h), Some(hm)) => amount / h >= min.amount / hm,
                    (Some(amount), true, None, _) => amount >= min.amount,
                    _ => true,
                }
            }
            _ => true,
        }
    }

    /// Whether this profile takes offers from `source`.
    pub fn reads(&self, source: &str) -> bool {
        self.sources
            .as_ref()
            .is_none_or(|s| s.iter().any(|n| n == source))
    }
}

/// One `[[profile.notify]]`.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Stable identity in the store: `KIND:TARGET`.
    pub id: String,
    pub kind: ChannelKind,
    /// When the digest goes out.
    pub schedule: Schedule,
    /// Delivered after every poll rather than on `schedule` (webhooks
    /// without a schedule, Atom files).
    pub immediate: bool,
    pub max_offers: usize,
}

/// Where a channel delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelKind {
    /// A digest by email through `[smtp]`, to these addresses.
    Email(Vec<String>),
    /// A local Maildir: the digest as one message, no SMTP needed.
    Maildir(PathBuf),
    /// An HTTP POST per batch; the secret is read at delivery time.
    Webhook {
        url: Url,
        format: Format,
        secret_env: Option<String>,
        secret_file: Option<PathBuf>,
    },
    /// The profile's last matches as an Atom file, rewritten after each poll.
    Atom(PathBuf),
}

/// `[smtp]`, compiled; the password is looked up only when sending.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpConfig {
    pub server: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub from: String,
}

/// Every problem found in a watchlist.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: no watchlist here; create one with `veille init {}`", .0.display(), .0.display())]
    Missing(PathBuf),
    #[error("{}: cannot read the watchlist: {}", .0.display(), .1)]
    Unreadable(PathBuf, std::io::Error),
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// One problem, printed as `FILE:LINE:COL: message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// Which watchlist to read: `--config`, `$VEILLE_CONFIG`, `./veille.toml`,
/// then the system one.
pub fn locate(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("VEILLE_CONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let local = PathBuf::from("veille.toml");
    if local.exists() {
        return local;
    }
    PathBuf::from(SYSTEM_WATCHLIST)
}

/// The state directory, following the contract's order.
pub fn state_dir(flag: Option<&Path>, config: &Config) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = &config.daemon.state_dir {
        return p.clone();
    }
    if let Some(p) = systemd_dir("STATE_DIRECTORY") {
        return p;
    }
    if config.path == Path::new(SYSTEM_WATCHLIST) {
        return PathBuf::from("/var/lib/veille");
    }
    if let Some(p) = std::env::var_os("XDG_STATE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("veille");
    }
    home().join(".local/state/veille")
}

/// A directory systemd passes in `var` (`StateDirectory=` and friends); it
/// may list several, colon-separated, and the first is ours.
pub fn systemd_dir(var: &str) -> Option<PathBuf> {
    let p = std::env::var_os(var).filter(|p| !p.is_empty())?;
    let first = p
        .to_string_lossy()
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    (!first.is_empty()).then(|| PathBuf::from(first))
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(std::env::home_dir)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Reads and compiles the watchlist at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::Missing(path.to_path_buf()));
        }
        Err(e) => return Err(ConfigError::Unreadable(path.to_path_buf(), e)),
    };
    compile(path, &text)
}

/// Compiles watchlist text; `path` names the file in errors and anchors
/// relative paths.
pub fn compile(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let mut cx = Cx {
        src: text,
        problems: Vec::new(),
        base: path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in errors {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        cx.problems.push((at, e.message().trim().to_string()));
    }
    let config = cx.document(&doc);
    if cx.problems.is_empty() {
        let mut config = config;
        config.path = path.to_path_buf();
        return Ok(config);
    }
    cx.problems.sort_by_key(|(at, _)| *at);
    cx.problems.dedup();
    let problems = cx
        .problems
        .iter()
        .map(|(at, message)| {
            let (line, col) = line_col(text, *at);
            Problem {
                file: path.to_path_buf(),
                line,
                col,
                message: message.clone(),
            }
        })
        .collect();
    Err(ConfigError::Invalid(problems))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let mut start = at;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The compile context: the source text and the problems found so far.
struct Cx<'s> {
    src: &'s str,
    problems: Vec<(usize, String)>,
    base: PathBuf,
}

impl Cx<'_> {
    fn err(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.problems.push((span.start, message.into()));
    }

    fn document(&mut self, doc: &Spanned<DeTable<'_>>) -> Config {
        let mut top = Table::new(doc.span(), doc.get_ref(), "the watchlist");
        let daemon = match top.table(self, "daemon") {
            Some((span, t)) => self.daemon(Table::new(span, t, "[daemon]")),
            None => self.daemon(Table::new(0..0, &DeTable::default(), "[daemon]")),
        };
        let smtp = top
            .table(self, "smtp")
            .and_then(|(span, t)| self.smtp(Table::new(span, t, "[smtp]")));
        let http = top.table(self, "http").and_then(|(span, t)| {
            let mut t = Table::new(span, t, "[http]");
            let listen = t.string(self, "listen");
            t.finish(self, &["listen"]);
            let listen = listen?;
            match listen.get_ref().parse::<std::net::SocketAddr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    self.err(
                        &listen.span(),
                        format!(
                            "`{}` is not an address:port such as \"127.0.0.1:9107\"",
                            listen.get_ref()
                        ),
                    );
                    None
                }
            }
        });
        let mut kept = Vec::new();
        let mut names: BTreeMap<String, Range<usize>> = BTreeMap::new();
        let mut seen = Vec::new();
        for (span, t) in top.tables(self, "board") {
            let (name, source) = self.board(Table::new(span, t, "[[board]]"), &daemon);
            seen.extend(name);
            kept.extend(source);
        }
        for (span, t) in top.tables(self, "company") {
            let (name, source) = self.company(Table::new(span, t, "[[company]]"), &daemon);
            seen.extend(name);
            kept.extend(source);
        }
        for name in seen {
            if let Some(first) = names.get(name.get_ref()) {
                let (line, _) = line_col(self.src, first.start);
                self.err(
                    &name.span(),
                    format!(
                        "the name `{}` is already used on line {line}; board and company names must be unique",
                        name.get_ref()
                    ),
                );
            } else {
                names.insert(name.get_ref().clone(), name.span());
            }
        }
        let source_names: HashSet<&str> = kept.iter().map(|s| s.name.as_str()).collect();
        let mut profiles = Vec::new();
        let mut matchers = Vec::new();
        let mut profile_names: BTreeMap<String, usize> = BTreeMap::new();
        for (span, t) in top.tables(self, "profile") {
            if let Some((name_span, p, matcher)) = self.profile(
                Table::new(span, t, "[[profile]]"),
                &source_names,
                smtp.is_some(),
            ) {
                if let Some(first) = profile_names.get(&p.name) {
                    let (line, _) = line_col(self.src, *first);
                    self.err(
                        &name_span,
                        format!(
                            "the profile name `{}` is already used on line {line}",
                            p.name
                        ),
                    );
                } else {
                    profile_names.insert(p.name.clone(), name_span.start);
                }
                profiles.push(p);
                matchers.push(matcher);
            }
        }
        top.finish(
            self,
            &["daemon", "smtp", "http", "board", "company", "profile"],
        );
        Config {
            path: PathBuf::new(),
            daemon,
            smtp,
            http,
            sources: kept,
            profiles,
            matchers: MatcherSet::new(matchers),
        }
    }

    fn daemon(&mut self, mut t: Table<'_, '_>) -> Daemon {
        let state_dir = t.string(self, "state_dir").map(|s| self.path(s.get_ref()));
        let timezone = match t.string(self, "timezone") {
            Some(s) => {
                match s.get_ref().parse::<Tz>() {
                    Ok(tz) => tz,
                    Err(_) => {
                        self.err(&s.span(), format!("unknown time zone `{}` (use an IANA name such as \"Europe/Paris\")", s.get_ref()));
                        Tz::UTC
                    }
                }
            }
            None => default_timezone(),
        };
        let language = match t.string(self, "language") {
            Some(s) => match s.get_ref().as_str() {
                "en" => Language::En,
                "fr" => Language::Fr,
                other => {
                    self.err(
                        &s.span(),
                        format!("unknown language `{other}` (use \"en\" or \"fr\")"),
                    );
                    Language::En
                }
            },
            None => Language::En,
        };
        let every = t.duration(self, "every").unwrap_or(DEFAULT_EVERY);
        let concurrency = match t.integer(self, "concurrency") {
            Some(n) if (1..=1024).contains(n.get_ref()) => *n.get_ref() as usize,
            Some(n) => {
                self.err(&n.span(), "concurrency must be between 1 and 1024");
                DEFAULT_CONCURRENCY
            }
            None => DEFAULT_CONCURRENCY,
        };
        let per_host_delay = t
            .duration_or_zero(self, "per_host_delay")
            .unwrap_or(DEFAULT_PER_HOST_DELAY);
        let user_agent = t
            .string(self, "user_agent")
            .map(|s| s.into_inner())
            .unwrap_or_else(default_user_agent);
        if user_agent.chars().any(char::is_control) {
            self.err(&t.span, "user_agent must not contain control characters");
        }
        let max_body = t.size(self, "max_body").unwrap_or(DEFAULT_MAX_BODY);
        let timeout = t.duration(self, "timeout").unwrap_or(DEFAULT_TIMEOUT);
        let retention = t.duration(self, "retention").unwrap_or(DEFAULT_RETENTION);
        t.finish(
            self,
            &[
                "state_dir",
                "timezone",
                "language",
                "every",
                "concurrency",
                "per_host_delay",
                "user_agent",
                "max_body",
                "timeout",
                "retention",
            ],
        );
        Daemon {
            state_dir,
            timezone,
            language,
            every,
            concurrency,
            per_host_delay,
            user_agent,
            max_body,
            timeout,
            retention,
        }
    }

    /// `[smtp]`: where email channels send. The password is never read
    /// here (`check` needs no secret): only where to find it.
    fn smtp(&mut self, mut t: Table<'_, '_>) -> Option<SmtpConfig> {
        if let Some(span) = t.key_span("password") {
            t.mark_used("password");
            self.err(
                &span,
                "the SMTP password does not belong in the watchlist: use password_env = \"VEILLE_SMTP_PASSWORD\", password_file = \"/path\", or the systemd credential smtp-password",
            );
        }
        let server = t.string(self, "server");
        let port = match t.integer(self, "port") {
            Some(p) if (1..=65535).contains(p.get_ref()) => Some(*p.get_ref() as u16),
            Some(p) => {
                self.err(&p.span(), "port must be between 1 and 65535");
                None
            }
            None => None,
        };
        let security = match t.string(self, "security") {
            None => Security::StartTls,
            Some(s) => match s.get_ref().as_str() {
                "starttls" => Security::StartTls,
                "tls" => Security::Tls,
                "none" => Security::None,
                _ => {
                    self.err(
                        &s.span(),
                        "security must be \"starttls\", \"tls\" or \"none\"",
                    );
                    Security::StartTls
                }
            },
        };
        let username = t.string(self, "username").map(Spanned::into_inner);
        let password_env = t.string(self, "password_env").map(Spanned::into_inner);
        let password_file = t
            .string(self, "password_file")
            .map(|p| self.path(p.get_ref()));
        let from = t.string(self, "from");
        if let Some(f) = &from
            && f.get_ref().parse::<lettre::message::Mailbox>().is_err()
        {
            self.err(&f.span(), format!("`{}` is not an address (write \"Name <me@example.org>\" or \"me@example.org\")", f.get_ref()));
        }
        let span = t.span.clone();
        t.finish(
            self,
            &[
                "server",
                "port",
                "security",
                "username",
                "password_env",
                "password_file",
                "from",
            ],
        );
        let Some(server) = server else {
            self.err(&span, "[smtp] needs `server`");
            return None;
        };
        let Some(from) = from else {
            self.err(&span, "[smtp] needs `from`, the sender address");
            return None;
        };
        let port = port.unwrap_or(match security {
            Security::StartTls => 587,
            Security::Tls => 465,
            Security::None => 25,
        });
        Some(SmtpConfig {
            server: server.into_inner(),
            port,
            security,
            username,
            password_env,
            password_file,
            from: from.into_inner(),
        })
    }

    fn name(&mut self, t: &mut Table<'_, '_>) -> Option<Spanned<String>> {
        let Some(name) = t.string(self, "name") else {
            if !t.has("name") {
                let what = t.what;
                self.err(&t.span, format!("{what} needs a `name`"));
            }
            return None;
        };
        let ok = !name.get_ref().is_empty()
            && name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            self.err(
                &name.span(),
                format!(
                    "`{}` is not a valid name: use lower-case letters, digits, `_` and `-`",
                    name.get_ref()
                ),
            );
        }
        Some(name)
    }

    fn when(&mut self, t: &mut Table<'_, '_>, daemon: &Daemon) -> When {
        let every = t.duration(self, "every");
        let schedule = t.schedule(self, "schedule");
        match (every, schedule) {
            (Some(_), Some(_)) => {
                let span = t.key_span("schedule").unwrap_or(t.span.clone());
                self.err(&span, "give either `every` or `schedule`, not both");
                When::Every(daemon.every)
            }
            (Some(d), None) => When::Every(d),
            (None, Some(s)) => When::Schedule(s),
            (None, None) => When::Every(daemon.every),
        }
    }

    /// Exactly one of `kinds` must be present; returns its key and value.
    /// Exactly one of `kinds` must be present: its key, or a problem
    /// reported (none, or several) and `None`.
    fn which_kind(
        &mut self,
        t: &mut Table<'_, '_>,
        kinds: &[&'static str],
    ) -> Option<&'static str> {
        let present: Vec<&'static str> = kinds.iter().copied().filter(|k| t.has(k)).collect();
        let what = t.what;
        match present.as_slice() {
            [] => {
                self.err(
                    &t.span,
                    format!("{what} needs one of: {}", kinds.join(", ")),
                );
                None
            }
            [one] => Some(*one),
            [_, second, ..] => {
                let span = t.key_span(second).unwrap_or(t.span.clone());
                self.err(
                    &span,
                    format!(
                        "{what} takes exactly one of {}, this one has {}",
                        kinds.join(", "),
                        present.join(" and ")
                    ),
                );
                for k in &present {
                    t.mark_used(k);
                }
                None
            }
        }
    }

    /// [`Cx::which_kind`], with the kind's string value.
    fn one_kind(
        &mut self,
        t: &mut Table<'_, '_>,
        kinds: &[&'static str],
    ) -> Option<(&'static str, Spanned<String>)> {
        let key = self.which_kind(t, kinds)?;
        t.string(self, key).map(|v| (key, v))
    }

    fn url(&mut self, value: &Spanned<String>) -> Option<Url> {
        match Url::parse(value.get_ref().trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
            Ok(u) => {
                self.err(
                    &value.span(),
                    format!(
                        "`{}` is not an http(s) URL (scheme `{}`)",
                        value.get_ref(),
                        u.scheme()
                    ),
                );
                None
            }
            Err(e) => {
                self.err(
                    &value.span(),
                    format!("`{}` is not a valid URL: {e}", value.get_ref()),
                );
                None
            }
        }
    }

    fn board(
        &mut self,
        mut t: Table<'_, '_>,
        daemon: &Daemon,
    ) -> (Option<Spanned<String>>, Option<Source>) {
        let name = self.name(&mut t);
        let kind = self.one_kind(&mut t, &["feed", "page", "mastodon", "bluesky"]);
        let when = self.when(&mut t, daemon);
        let hashtag = t.string(self, "hashtag");
        let account = t.string(self, "account");
        let select = self.select(&mut t);
        let is_page = matches!(kind, Some(("page", _)));
        if !is_page && let Some(span) = t.key_span("select") {
            self.err(&span, "[board.select] only applies to `page` boards");
        }
        if !matches!(kind, Some(("mastodon", _))) {
            for (key, v) in [("hashtag", &hashtag), ("account", &account)] {
                if let Some(v) = v {
                    self.err(
                        &v.span(),
                        format!("`{key}` only applies to `mastodon` boards"),
                    );
                }
            }
        }
        let resolved = match kind {
            Some(("feed", v)) => self.url(&v).map(|u| (SourceKind::Feed, u)),
            Some(("page", v)) => self.url(&v).map(|u| (SourceKind::Page(select), u)),
            Some(("mastodon", v)) => self.mastodon(&t, &v, hashtag, account),
            Some(("bluesky", v)) => self.bluesky(&v),
            Some((_, _)) | None => None,
        };
        t.finish(
            self,
            &[
                "name", "feed", "page", "mastodon", "bluesky", "hashtag", "account", "select",
                "every", "schedule",
            ],
        );
        let source = match (&name, resolved) {
            (Some(name), Some((kind, url))) => Some(Source {
                name: name.get_ref().clone(),
                kind,
                url,
                when,
                company: None,
            }),
            _ => None,
        };
        (name, source)
    }

    /// `[board.select]` / `[company.select]`, compiled.
    fn select(&mut self, t: &mut Table<'_, '_>) -> Option<Selectors> {
        let (span, table) = t.table(self, "select")?;
        let mut st = Table::new(span.clone(), table, "[select]");
        let item = st.string(self, "item");
        let mut fields: Vec<Option<Spanned<String>>> = Vec::new();
        for key in ["title", "link", "company", "location", "date"] {
            fields.push(st.string(self, key));
        }
        let spans: Vec<(&str, Range<usize>)> =
            ["item", "title", "link", "company", "location", "date"]
                .into_iter()
                .filter_map(|k| st.entry(k).map(|(_, v)| (k, v.span())))
                .collect();
        let has_item = st.has("item");
        st.finish(
            self,
            &["item", "title", "link", "company", "location", "date"],
        );
        let Some(item) = item else {
            if !has_item {
                self.err(
                    &span,
                    "a select table needs `item`, the selector of one offer's element",
                );
            }
            return None;
        };
        let f = |i: usize| fields[i].as_ref().map(|s| s.get_ref().as_str());
        match Selectors::compile(item.get_ref(), f(0), f(1), f(2), f(3), f(4)) {
            Ok(s) => Some(s),
            Err(errors) => {
                for e in errors {
                    let at = spans
                        .iter()
                        .find(|(k, _)| *k == e.key)
                        .map(|(_, s)| s.clone())
                        .unwrap_or(span.clone());
                    self.err(&at, format!("bad selector `{}`: {}", e.key, e.message));
                }
                None
            }
        }
    }

    /// `bluesky = "did:plc:…"`, a handle, or (tests, mirrors) a full feed URL.
    fn bluesky(&mut self, v: &Spanned<String>) -> Option<(SourceKind, Url)> {
        let raw = v.get_ref().trim().trim_start_matches('@');
        if raw.contains("://") {
            return self
                .url(v)
                .map(|u| (SourceKind::Bluesky { handle: None }, u));
        }
        if raw.starts_with("did:") {
            let url = Url::parse(&format!("https://bsky.app/profile/{raw}/rss")).ok()?;
            return Some((SourceKind::Bluesky { handle: None }, url));
        }
        let ok = raw.contains('.')
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok {
            self.err(
                &v.span(),
                format!(
                    "`{}` is neither a Bluesky handle (name.bsky.social) nor a DID (did:plc:…)",
                    v.get_ref()
                ),
            );
            return None;
        }
        // Placeholder until the handle is resolved at fetch time.
        let url = Url::parse(&format!("https://bsky.app/profile/{raw}/rss")).ok()?;
        Some((
            SourceKind::Bluesky {
                handle: Some(raw.to_ascii_lowercase()),
            },
            url,
        ))
    }

    fn mastodon(
        &mut self,
        t: &Table<'_, '_>,
        host: &Spanned<String>,
        hashtag: Option<Spanned<String>>,
        account: Option<Spanned<String>>,
    ) -> Option<(SourceKind, Url)> {
        let raw = host.get_ref().trim().trim_end_matches('/');
        let base = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("https://{raw}")
        };
        let base = self.url(&Spanned::new(host.span(), base))?;
        let base = base.as_str().trim_end_matches('/').to_string();
        let path = match (hashtag, account) {
            (Some(h), None) => {
                let tag = h.get_ref().trim_start_matches('#');
                if tag.is_empty() || !tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    self.err(&h.span(), format!("`{}` is not a hashtag", h.get_ref()));
                    return None;
                }
                format!("/tags/{tag}.rss")
            }
            (None, Some(a)) => {
                let acct = a.get_ref().trim_start_matches('@');
                if acct.is_empty() || acct.contains('/') {
                    self.err(
                        &a.span(),
                        format!("`{}` is not an account name", a.get_ref()),
                    );
                    return None;
                }
                format!("/@{acct}.rss")
            }
            (Some(_), Some(a)) => {
                self.err(
                    &a.span(),
                    "a mastodon board takes either `hashtag` or `account`, not both",
                );
                return None;
            }
            (None, None) => {
                self.err(
                    &t.span,
                    "a mastodon board needs `hashtag = \"…\"` or `account = \"…\"`",
                );
                return None;
            }
        };
        match Url::parse(&format!("{base}{path}")) {
            Ok(u) => Some((SourceKind::Mastodon, u)),
            Err(e) => {
                self.err(&host.span(), format!("cannot build the feed URL: {e}"));
                None
            }
        }
    }

    fn company(
        &mut self,
        mut t: Table<'_, '_>,
        daemon: &Daemon,
    ) -> (Option<Spanned<String>>, Option<Source>) {
        let kinds = [
            "careers",
            "greenhouse",
            "lever",
            "ashby",
            "workable",
            "recruitee",
            "smartrecruiters",
            "personio",
        ];
        let name = self.name(&mut t);
        let kind = self.one_kind(&mut t, &kinds);
        let when = self.when(&mut t, daemon);
        let select = self.select(&mut t);
        let resolved = match kind {
            Some(("careers", v)) => self.url(&v).map(|u| match ats::detect(&u) {
                Some((ats, token)) => match ats.endpoint(&token) {
                    Ok(api) => (
                        SourceKind::Ats {
                            ats,
                            detected: true,
                        },
                        api,
                    ),
                    Err(_) => (SourceKind::Careers(select), u),
                },
                None => (SourceKind::Careers(select), u),
            }),
            Some((key, v)) => match Ats::from_key(key) {
                Some(ats) => match ats.endpoint(v.get_ref()) {
                    Ok(url) => Some((
                        SourceKind::Ats {
                            ats,
                            detected: false,
                        },
                        url,
                    )),
                    Err(e) => {
                        self.err(&v.span(), format!("bad `{key}` board: {e}"));
                        None
                    }
                },
                None => None,
            },
            None => None,
        };
        if let Some((SourceKind::Ats { .. }, _)) = &resolved
            && let Some(span) = t.key_span("select")
        {
            self.err(&span, "[company.select] only applies to `careers` pages");
        }
        let mut allowed = kinds.to_vec();
        allowed.extend(["name", "select", "every", "schedule"]);
        t.finish(self, &allowed);
        let source = match (&name, resolved) {
            (Some(name), Some((kind, url))) => Some(Source {
                name: name.get_ref().clone(),
                kind,
                url,
                when,
                company: Some(name.get_ref().clone()),
            }),
            _ => None,
        };
        (name, source)
    }

    fn patterns(&mut self, t: &mut Table<'_, '_>, key: &str) -> Vec<Pattern> {
        let mut out = Vec::new();
        for s in t.strings(self, key) {
            match Pattern::parse(s.get_ref()) {
                Ok(p) => out.push(p),
                Err(e) => {
                    let span = inner_span(self.src, &s.span(), e.offset);
                    self.err(
                        &span,
                        format!("in `{key}` entry `{}`: {}", s.get_ref(), e.message),
                    );
                }
            }
        }
        out
    }

    fn profile(
        &mut self,
        mut t: Table<'_, '_>,
        sources: &HashSet<&str>,
        smtp: bool,
    ) -> Option<(Range<usize>, Profile, Matcher)> {
        let name = self.name(&mut t);
        let query = t
            .string(self, "query")
            .and_then(|q| match Query::parse(q.get_ref()) {
                Ok(q) => Some(q),
                Err(e) => {
                    let span = inner_span(self.src, &q.span(), e.offset);
                    self.err(&span, format!("in the query: {}", e.message));
                    None
                }
            });
        let keywords = self.patterns(&mut t, "keywords");
        let exclude = self.patterns(&mut t, "exclude");
        let locations = self.patterns(&mut t, "locations");
        let block_companies = self.patterns(&mut t, "block_companies");
        let listed = t.has("sources");
        let mut names = Vec::new();
        for s in t.strings(self, "sources") {
            if sources.contains(s.get_ref().as_str()) {
                names.push(s.into_inner());
            } else {
                self.err(
                    &s.span(),
                    format!("no board or company is named `{}`", s.get_ref()),
                );
            }
        }
        let backfill = t
            .duration_or_zero(self, "backfill")
            .unwrap_or(Duration::ZERO);
        let mut contracts = Vec::new();
        for c in t.strings(self, "contracts") {
            let v = c.get_ref().to_ascii_lowercase();
            if crate::offer::CONTRACTS.contains(&v.as_str()) {
                contracts.push(v);
            } else {
                self.err(
                    &c.span(),
                    format!(
                        "unknown contract `{}` (use {})",
                        c.get_ref(),
                        crate::offer::CONTRACTS.join(", ")
                    ),
                );
            }
        }
        let remote_only = t.boolean(self, "remote_only").unwrap_or(false);
        let salary_required = t.boolean(self, "salary_required").unwrap_or(false);
        let min_salary = t.table(self, "min_salary").and_then(|(span, table)| {
            let mut st = Table::new(span.clone(), table, "min_salary");
            let amount = st.number(self, "amount");
            let currency = st.string(self, "currency");
            let period = st.string(self, "period");
            st.finish(self, &["amount", "currency", "period"]);
            let currency = match currency {
                Some(c)
                    if c.get_ref().len() == 3
                        && c.get_ref().chars().all(|x| x.is_ascii_alphabetic()) =>
                {
                    c.get_ref().to_ascii_uppercase()
                }
                Some(c) => {
                    self.err(
                        &c.span(),
                        format!("`{}` is not a currency code such as \"EUR\"", c.get_ref()),
                    );
                    return None;
                }
                None => {
                    self.err(&span, "min_salary needs `currency`, e.g. \"EUR\"");
                    return None;
                }
            };
            let period = match period {
                Some(p) if hours_in(p.get_ref()).is_some() => p.get_ref().clone(),
                Some(p) => {
                    self.err(&p.span(), "period must be hour, day, week, month or year");
                    return None;
                }
                None => "year".to_string(),
            };
            let Some(amount) = amount else {
                self.err(&span, "min_salary needs `amount`");
                return None;
            };
            Some(MinSalary {
                amount,
                currency,
                period,
            })
        });
        let mut channels = Vec::new();
        let mut ids = HashSet::new();
        for (span, n) in t.tables(self, "notify") {
            if let Some(c) = self.channel(Table::new(span.clone(), n, "[[profile.notify]]"), smtp) {
                if !ids.insert(c.id.clone()) {
                    self.err(&span, format!("this profile already delivers to {}", c.id));
                }
                channels.push(c);
            }
        }
        t.finish(
            self,
            &[
                "name",
                "query",
                "keywords",
                "exclude",
                "locations",
                "sources",
                "block_companies",
                "backfill",
                "notify",
                "contracts",
                "remote_only",
                "min_salary",
                "salary_required",
            ],
        );
        let name = name?;
        let spec = ProfileSpec {
            query,
            keywords,
            exclude,
            locations,
            block_companies,
        };
        Some((
            name.span(),
            Profile {
                name: name.into_inner(),
                sources: listed.then_some(names),
                backfill,
                channels,
                contracts,
                remote_only,
                min_salary,
                salary_required,
            },
            Matcher::new(spec),
        ))
    }

    fn channel(&mut self, mut t: Table<'_, '_>, smtp: bool) -> Option<Channel> {
        let kind = self.which_kind(&mut t, &["email", "maildir", "webhook", "atom"]);
        let schedule = t.schedule(self, "schedule");
        let max_offers = match t.integer(self, "max_offers") {
            Some(n) if *n.get_ref() >= 1 => *n.get_ref() as usize,
            Some(n) => {
                self.err(&n.span(), "max_offers must be at least 1");
                DEFAULT_MAX_OFFERS
            }
            None => DEFAULT_MAX_OFFERS,
        };
        let format = t.string(self, "format");
        let secret_env = t.string(self, "secret_env").map(Spanned::into_inner);
        let secret_file = t
            .string(self, "secret_file")
            .map(|p| self.path(p.get_ref()));
        if let Some(span) = t.key_span("secret") {
            t.mark_used("secret");
            self.err(&span, "a webhook secret does not belong in the watchlist: use secret_env = \"VEILLE_HOOK_SECRET\" or secret_file = \"/path\"");
        }
        let compiled = match kind {
            None => None,
            Some("email") => {
                let span = t.key_span("email").unwrap_or(t.span.clone());
                let mut to = Vec::new();
                for a in t.strings(self, "email") {
                    if a.get_ref().parse::<lettre::Address>().is_ok() {
                        to.push(a.into_inner());
                    } else {
                        self.err(
                            &a.span(),
                            format!("`{}` is not an email address", a.get_ref()),
                        );
                    }
                }
                if !smtp {
                    self.err(
                        &span,
                        "email channels need an [smtp] table (the server to send through)",
                    );
                }
                (!to.is_empty()).then(|| {
                    (
                        format!("email:{}", to.join(",")),
                        ChannelKind::Email(to),
                        false,
                    )
                })
            }
            Some("maildir") => t.string(self, "maildir").map(|v| {
                let path = self.path(v.get_ref());
                (
                    format!("maildir:{}", path.display()),
                    ChannelKind::Maildir(path),
                    false,
                )
            }),
            Some("atom") => t.string(self, "atom").map(|v| {
                let path = self.path(v.get_ref());
                (
                    format!("atom:{}", path.display()),
                    ChannelKind::Atom(path),
                    true,
                )
            }),
            Some(_) => t.string(self, "webhook").and_then(|v| {
                let url = self.url(&v)?;
                let fmt = match &format {
                    None => Format::Json,
                    Some(f) => match Format::from_key(f.get_ref()) {
                        Some(x) => x,
                        None => {
                            self.err(
                                &f.span(),
                                "format must be json, slack, discord, mattermost or ntfy",
                            );
                            Format::Json
                        }
                    },
                };
                Some((
                    format!("webhook:{url}"),
                    ChannelKind::Webhook {
                        url,
                        format: fmt,
                        secret_env: secret_env.clone(),
                        secret_file: secret_file.clone(),
                    },
                    schedule.is_none(),
                ))
            }),
        };
        if kind != Some("webhook") {
            for key in ["format", "secret_env", "secret_file"] {
                if let Some(span) = t.key_span(key) {
                    self.err(&span, format!("`{key}` only applies to webhook channels"));
                }
            }
        }
        t.finish(
            self,
            &[
                "email",
                "maildir",
                "webhook",
                "atom",
                "schedule",
                "max_offers",
                "format",
                "secret_env",
                "secret_file",
            ],
        );
        let (id, kind, immediate) = compiled?;
        let schedule = schedule.unwrap_or_else(|| {
            Schedule::parse(DEFAULT_DIGEST_SCHEDULE).expect("the default schedule is valid")
        });
        Some(Channel {
            id,
            kind,
            schedule,
            immediate,
            max_offers,
        })
    }

    /// A path from the watchlist: `~` is the home, relative is to the
    /// watchlist's folder.
    fn path(&self, raw: &str) -> PathBuf {
        let p = if raw == "~" {
            home()
        } else if let Some(rest) = raw.strip_prefix("~/") {
            home().join(rest)
        } else {
            PathBuf::from(raw)
        };
        if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        }
    }
}

/// Points inside a string value: the span starts at the opening quote, and
/// `offset` counts bytes of the string's content. Escapes would shift this,
/// so only basic single-line strings get the precise column.
fn inner_span(src: &str, value: &Range<usize>, offset: usize) -> Range<usize> {
    let raw = src.get(value.clone()).unwrap_or("");
    let quote = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        3
    } else {
        1
    };
    if raw.contains('\\') {
        return value.clone();
    }
    let at = (value.start + quote + offset).min(value.end);
    at..at
}

fn default_timezone() -> Tz {
    if let Ok(tz) = std::env::var("TZ") {
        let name = tz.trim_start_matches(':');
        let name = name.strip_prefix("/usr/share/zoneinfo/").unwrap_or(name);
        if let Ok(tz) = name.parse::<Tz>() {
            return tz;
        }
    }
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|n| n.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

fn default_user_agent() -> String {
    format!("veille/{} (job-offer watch)", env!("CARGO_PKG_VERSION"))
}

/// Walks one table, recording problems and which keys were read.
struct Table<'t, 'i> {
    span: Range<usize>,
    map: &'t DeTable<'i>,
    used: Vec<String>,
    what: &'static str,
}

impl<'t, 'i> Table<'t, 'i> {
    fn new(span: Range<usize>, map: &'t DeTable<'i>, what: &'static str) -> Self {
        Table {
            span,
            map,
            used: Vec::new(),
            what,
        }
    }

    fn entry(
        &self,
        key: &str,
    ) -> Option<(
        &'t Spanned<toml::de::DeString<'i>>,
        &'t Spanned<DeValue<'i>>,
    )> {
        self.map.iter().find(|(k, _)| k.get_ref().as_ref() == key)
    }

    fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.entry(key).map(|(k, _)| k.span())
    }

    fn mark_used(&mut self, key: &str) {
        self.used.push(key.to_string());
    }

    fn value(&mut self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        let (_, v) = self.entry(key)?;
        self.mark_used(key);
        Some(v)
    }

    fn string(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<String>> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Spanned::new(v.span(), s.to_string())),
            other => {
                cx.err(
                    &v.span(),
                    format!("`{key}` must be a string, not {}", type_name(other)),
                );
                None
            }
        }
    }

    fn integer(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<i64>> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) => Some(Spanned::new(v.span(), n)),
                    Err(_) => {
                        cx.err(&v.span(), format!("`{key}` is out of range"));
                        None
                    }
                }
            }
            other => {
                cx.err(
                    &v.span(),
                    format!("`{key}` must be an integer, not {}", type_name(other)),
                );
                None
            }
        }
    }

    fn boolean(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<bool> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                cx.err(
                    &v.span(),
                    format!("`{key}` must be true or false, not {}", type_name(other)),
                );
                None
            }
        }
    }

    /// A number, integer or float.
    fn number(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<f64> {
        let v = self.value(key)?;
        let n = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n.is_finite() && n >= 0.0 => Some(n),
            _ => {
                cx.err(&v.span(), format!("`{key}` must be a positive number"));
                None
            }
        }
    }

    /// A string, or an array of strings.
    fn strings(&mut self, cx: &mut Cx<'_>, key: &str) -> Vec<Spanned<String>> {
        let Some(v) = self.value(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::String(s) => vec![Spanned::new(v.span(), s.to_string())],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push(Spanned::new(item.span(), s.to_string())),
                        other => cx.err(
                            &item.span(),
                            format!("`{key}` entries must be strings, not {}", type_name(other)),
                        ),
                    }
                }
                out
            }
            other => {
                cx.err(
                    &v.span(),
                    format!(
                        "`{key}` must be a string or a list of strings, not {}",
                        type_name(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    fn duration(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<Duration> {
        let d = self.duration_or_zero(cx, key)?;
        if d.is_zero() {
            let span = self
                .entry(key)
                .map(|(_, v)| v.span())
                .unwrap_or(self.span.clone());
            cx.err(&span, format!("`{key}` must be longer than zero"));
            return None;
        }
        Some(d)
    }

    fn duration_or_zero(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<Duration> {
        let s = self.string(cx, key)?;
        match parse_duration(s.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                cx.err(
                    &s.span(),
                    format!(
                        "`{}` is not a duration ({e}); write e.g. \"90s\", \"15m\", \"2h\", \"7d\"",
                        s.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn size(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<u64> {
        let s = self.string(cx, key)?;
        match s.get_ref().trim().parse::<bytesize::ByteSize>() {
            Ok(b) if b.as_u64() > 0 => Some(b.as_u64()),
            _ => {
                cx.err(
                    &s.span(),
                    format!(
                        "`{}` is not a size; write e.g. \"512KiB\", \"10MiB\"",
                        s.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn schedule(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<Schedule> {
        let s = self.string(cx, key)?;
        match Schedule::parse(s.get_ref()) {
            Ok(s) => Some(s),
            Err(e) => {
                cx.err(&s.span(), e);
                None
            }
        }
    }

    fn table(&mut self, cx: &mut Cx<'_>, key: &str) -> Option<(Range<usize>, &'t DeTable<'i>)> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some((v.span(), t)),
            other => {
                cx.err(
                    &v.span(),
                    format!("`{key}` must be a table, not {}", type_name(other)),
                );
                None
            }
        }
    }

    /// An array of tables (`[[key]]`); a single table is accepted too.
    fn tables(&mut self, cx: &mut Cx<'_>, key: &str) -> Vec<(Range<usize>, &'t DeTable<'i>)> {
        let Some(v) = self.value(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::Table(t) => Some((item.span(), t)),
                    other => {
                        cx.err(
                            &item.span(),
                            format!("`{key}` entries must be tables, not {}", type_name(other)),
                        );
                        None
                    }
                })
                .collect(),
            DeValue::Table(t) => vec![(v.span(), t)],
            other => {
                cx.err(
                    &v.span(),
                    format!(
                        "`{key}` must be a list of tables ([[{key}]]), not {}",
                        type_name(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    /// Every key not read is unknown: an error, with a suggestion.
    fn finish(self, cx: &mut Cx<'_>, allowed: &[&str]) {
        for (k, _) in self.map.iter() {
            let key = k.get_ref().as_ref();
            if self.used.iter().any(|u| u == key) {
                continue;
            }
            let hint = allowed
                .iter()
                .filter(|a| strsim::levenshtein(a, key) <= 2)
                .min_by_key(|a| strsim::levenshtein(a, key))
                .map(|a| format!("; did you mean `{a}`?"))
                .unwrap_or_default();
            cx.err(
                &k.span(),
                format!("unknown key `{key}` in {}{hint}", self.what),
            );
        }
    }
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Durations as the contract writes them (`"90s"`, `"15m"`, `"2h"`, `"7d"`),
/// and anything else `humantime` reads (`"1h 30m"`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match compile(Path::new("w.toml"), text) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(p)) => p.iter().map(|p| p.to_string()).collect(),
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn a_minimal_watchlist_compiles() {
        let c = compile(
            Path::new("/etc/x/w.toml"),
            r#"
[daemon]
timezone = "Europe/Paris"
every = "15m"
[[board]]
name = "wwr"
feed = "https://example.org/jobs.rss"
[[profile]]
name = "alice"
query = "rust stage"
[[profile.notify]]
maildir = "Maildir"
"#,
        )
        .unwrap();
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.daemon.every, Duration::from_secs(900));
        assert_eq!(
            c.profiles[0].channels[0].kind,
            ChannelKind::Maildir(PathBuf::from("/etc/x/Maildir"))
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_position() {
        let got = problems(
            r#"[daemon]
every = "soon"
max_body = "lots"
colour = "blue"

[[board]]
name = "Bad Name"
feed = "not a url"
schedule = "0 8 * *"

[[board]]
name = "ok"
feed = "https://a.example/x"
page = "https://a.example/y"

[[profile]]
name = "p"
query = '(rust'
"#,
        );
        let joined = got.join("\n");
        assert!(got.len() >= 7, "{joined}");
        assert!(got[0].starts_with("w.toml:2:9: "), "{joined}");
        assert!(
            joined.contains("w.toml:4:1: unknown key `colour`"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:7:8: `Bad Name` is not a valid name"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:8:8: `not a url` is not a valid URL"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:9:12: a schedule has 5 fields"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:14:1: [[board]] takes exactly one of"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:18:10: in the query: unbalanced parenthesis"),
            "{joined}"
        );
    }

    #[test]
    fn duplicate_names_and_unknown_sources() {
        let got = problems(
            r#"[[board]]
name = "a"
feed = "https://a.example/x"
[[board]]
name = "a"
feed = "https://a.example/y"
[[profile]]
name = "p"
sources = ["a", "nope"]
[[profile]]
name = "p"
"#,
        );
        let joined = got.join("\n");
        assert!(
            joined.contains("w.toml:5:8: the name `a` is already used on line 2"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:9:17: no board or company is named `nope`"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:11:8: the profile name `p` is already used"),
            "{joined}"
        );
    }

    #[test]
    fn a_password_in_the_watchlist_is_refused_with_advice() {
        let got = problems(
            "[smtp]\nserver = \"smtp.example.org\"\npassword = \"hunter2\"\nfrom = \"me@example.org\"\n",
        );
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with("w.toml:3:1: the SMTP password does not belong"),
            "{got:?}"
        );
        assert!(!got[0].contains("hunter2"));
    }

    #[test]
    fn unknown_key_suggests_the_close_one() {
        let got = problems("[[board]]\nname = \"a\"\nfed = \"https://a.example/x\"\n");
        let joined = got.join("\n");
        assert!(
            joined.contains("unknown key `fed` in [[board]]; did you mean `feed`?"),
            "{joined}"
        );
    }

    #[test]
    fn toml_syntax_errors_have_positions() {
        let got = problems("[daemon\nevery = 1\n");
        assert!(!got.is_empty());
        assert!(got[0].starts_with("w.toml:1:"), "{got:?}");
    }

    #[test]
    fn mastodon_boards_read_the_public_rss() {
        let c = compile(
            Path::new("w.toml"),
            "[[board]]\nname = \"m\"\nmastodon = \"mastodon.social\"\nhashtag = \"#FediHire\"\n[[board]]\nname = \"n\"\nmastodon = \"http://127.0.0.1:8080/\"\naccount = \"@bob\"\n",
        )
        .unwrap();
        assert_eq!(
            c.sources[0].url.as_str(),
            "https://mastodon.social/tags/FediHire.rss"
        );
        assert_eq!(c.sources[1].url.as_str(), "http://127.0.0.1:8080/@bob.rss");
    }

    #[test]
    fn a_careers_url_on_a_known_ats_uses_its_api() {
        let c = compile(
            Path::new("w.toml"),
            "[[company]]\nname = \"ferris\"\ncareers = \"https://boards.greenhouse.io/ferris\"\n[[company]]\nname = \"bear\"\ncareers = \"https://www.bearstudio.fr/careers\"\n[[company]]\nname = \"lev\"\nlever = \"leverdemo\"\n",
        )
        .unwrap();
        assert!(matches!(
            c.sources[0].kind,
            SourceKind::Ats {
                ats: Ats::Greenhouse,
                detected: true
            }
        ));
        assert_eq!(
            c.sources[0].url.as_str(),
            "https://boards-api.greenhouse.io/v1/boards/ferris/jobs?content=true"
        );
        assert!(matches!(c.sources[1].kind, SourceKind::Careers(None)));
        assert_eq!(
            c.sources[2].url.as_str(),
            "https://api.lever.co/v0/postings/leverdemo?mode=json"
        );
        assert_eq!(c.sources[2].company.as_deref(), Some("lev"));
    }

    #[test]
    fn bad_selectors_and_profile_filters_point_at_their_line() {
        let got = problems(
            "[[board]]\nname = \"b\"\npage = \"https://a.example/\"\n[board.select]\nitem = \"div[\"\n[[profile]]\nname = \"p\"\ncontracts = [\"internship\", \"gig\"]\nmin_salary = { amount = 30000, currency = \"euros\" }\n",
        );
        let joined = got.join("\n");
        assert!(
            joined.contains("w.toml:5:8: bad selector `item`"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:8:28: unknown contract `gig`"),
            "{joined}"
        );
        assert!(
            joined.contains("w.toml:9:43: `euros` is not a currency code"),
            "{joined}"
        );
    }

    #[test]
    fn durations_sizes_and_paths() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert!(parse_duration("soon").is_err());
        let c = compile(
            Path::new("w.toml"),
            "[daemon]\nmax_body = \"512KiB\"\nstate_dir = \"~/st\"\nper_host_delay = \"0s\"\n",
        )
        .unwrap();
        assert_eq!(c.daemon.max_body, 512 * 1024);
        assert!(c.daemon.per_host_delay.is_zero());
        assert_eq!(c.daemon.state_dir.unwrap(), home().join("st"));
    }
}
