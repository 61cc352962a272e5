//! HTTP for every source: one shared client, politeness, limits.
//!
//! Owns: conditional GET (ETag / Last-Modified), the per-host gap between two
//! requests, the body cap (counted on the decompressed bytes, while they
//! stream, so a gzip bomb stops at `max_body`), redirects and timeouts, and a
//! one-line reason for every failure. It does not parse bodies, nor decide
//! when a source is polled.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{
    CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use url::Url;

use crate::config::Daemon;

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;
/// Longest wait for a TCP/TLS connection, within the whole-request timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a server told us to send back next time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A successful fetch.
#[derive(Debug)]
pub enum Fetched {
    /// 304: nothing changed since the validators were given.
    NotModified,
    Body(Body),
}

/// A response body, decompressed, at most `max_body` bytes.
#[derive(Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    /// Where the body came from after redirects: relative links resolve here.
    pub url: Url,
    pub validators: Validators,
}

/// Why a fetch failed, as one line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("HTTP {status}{}", .reason.as_deref().map(|r| format!(" {r}")).unwrap_or_default())]
    Status {
        status: u16,
        reason: Option<String>,
        /// Seconds asked by `Retry-After`, if any.
        retry_after: Option<u64>,
    },
    #[error("the response is larger than {} (max_body)", bytesize::ByteSize(*.0))]
    TooLarge(u64),
    #[error("more than {MAX_REDIRECTS} redirects (a redirect loop?)")]
    TooManyRedirects,
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the connection failed while reading the body: {0}")]
    Body(String),
    #[error("robots.txt disallows {0}")]
    Disallowed(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// A parsed robots.txt; `None` allows everything.
type RobotRules = Option<std::sync::Arc<texting_robots::Robot>>;

/// How long a host's robots.txt is trusted.
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);

/// The one HTTP client of a run, with its per-host clock.
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    timeout: Duration,
    per_host_delay: Duration,
    /// Next instant a request to each host may start.
    next_slot: Mutex<HashMap<String, Instant>>,
    /// robots.txt per origin, with when it was read; `None` allows all.
    robots: tokio::sync::Mutex<HashMap<String, (Instant, RobotRules)>>,
    /// The product token robots.txt rules are matched against.
    agent: String,
}

impl Fetcher {
    pub fn new(daemon: &Daemon) -> Result<Fetcher, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(daemon.user_agent.clone())
            .timeout(daemon.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(daemon.timeout))
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .build()?;
        Ok(Fetcher {
            client,
            max_body: daemon.max_body,
            timeout: daemon.timeout,
            per_host_delay: daemon.per_host_delay,
            next_slot: Mutex::new(HashMap::new()),
            robots: tokio::sync::Mutex::new(HashMap::new()),
            agent: daemon
                .user_agent
                .split(['/', ' '])
                .next()
                .filter(|a| !a.is_empty())
                .unwrap_or("veille")
                .to_string(),
        })
    }

    /// The shared HTTP client (webhooks use it too).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Fails with [`FetchError::Disallowed`] when the origin's robots.txt
    /// forbids `url` to us. A missing robots.txt (4xx) allows everything; one
    /// that cannot be fetched (5xx, network) allows too, and is retried at
    /// the next poll rather than cached.
    pub async fn robots_allow(&self, url: &Url) -> Result<(), FetchError> {
        let origin = url.origin().ascii_serialization();
        let cached = {
            let cache = self.robots.lock().await;
            cache
                .get(&origin)
                .filter(|(at, _)| at.elapsed() < ROBOTS_TTL)
                .map(|(_, r)| r.clone())
        };
        let robot = match cached {
            Some(r) => r,
            None => {
                let Ok(robots_url) = url.join("/robots.txt") else {
                    return Ok(());
                };
                let robot = match self.get(&robots_url, None).await {
                    Ok(Fetched::Body(b)) => texting_robots::Robot::new(&self.agent, &b.bytes)
                        .ok()
                        .map(std::sync::Arc::new),
                    Ok(Fetched::NotModified) => None,
                    Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => None,
                    Err(e) => {
                        tracing::debug!(origin = %origin, error = %e, "robots.txt unavailable; allowing.");
                        return Ok(());
                    }
                };
                self.robots
                    .lock()
                    .await
                    .insert(origin, (Instant::now(), robot.clone()));
                robot
            }
        };
        match robot {
            Some(r) if !r.allowed(url.as_str()) => Err(FetchError::Disallowed(url.to_string())),
            _ => Ok(()),
        }
    }

    /// Waits for this host's turn: at most one request per `per_host_delay`.
    async fn wait_turn(&self, url: &Url) {
        if self.per_host_delay.is_zero() {
            return;
        }
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let start = {
            let mut slots = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = slots
                .get(&host)
                .copied()
                .filter(|s| *s > now)
                .unwrap_or(now);
            slots.insert(host, slot + self.per_host_delay);
            slot
        };
        tokio::time::sleep_until(start).await;
    }

    /// GET `url`, conditionally when `validators` are given.
    pub async fn get(
        &self,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        self.wait_turn(url).await;
        let mut request = self.client.get(url.clone());
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
        }
        let response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                reason: status.canonical_reason().map(str::to_string),
                retry_after: retry_after(response.headers()),
            });
        }
        if let Some(len) = response.content_length()
            && len > self.max_body
        {
            return Err(FetchError::TooLarge(self.max_body));
        }
        let headers = response.headers();
        let content_type = header(headers, CONTENT_TYPE.as_str());
        let validators = Validators {
            etag: header(headers, ETAG.as_str()),
            last_modified: header(headers, LAST_MODIFIED.as_str()),
        };
        let final_url = response.url().clone();
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| match self.classify(e) {
                FetchError::Other(m) | FetchError::Connect(m) => FetchError::Body(m),
                other => other,
            })?;
            if bytes.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(FetchError::TooLarge(self.max_body));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body(Body {
            bytes,
            content_type,
            url: final_url,
            validators,
        }))
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout(self.timeout);
        }
        if e.is_redirect() {
            return FetchError::TooManyRedirects;
        }
        let detail = root_cause(&e);
        if e.is_connect() {
            FetchError::Connect(detail)
        } else if e.is_body() || e.is_decode() {
            FetchError::Body(detail)
        } else {
            FetchError::Other(detail)
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` in seconds (delta form; an HTTP date counts from now).
fn retry_after(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs);
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(secs.max(0) as u64)
}

/// The innermost error message, on one line: reqwest's outer messages only
/// say "error sending request".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string().replace(['\n', '\r'], " ")
}
