//! Webhook delivery: turns one batch of matches into request bodies for a
//! chat or push service (or the contract's plain JSON), signs them, POSTs
//! them and says whether the receiver accepted, refused or should be retried.
//!
//! Owns: the body shapes (`json`, Slack Block Kit, Discord embeds, Mattermost
//! markdown, ntfy's header form), escaping web text for each of them, the
//! services' size limits, the `X-Veille-Signature` scheme, and classifying
//! HTTP answers ([`Outcome`]).
//! Does not own: the HTTP client (its proxy, redirect and TLS settings are
//! the caller's), queues, retries or backoff, or choosing which offers go
//! in a batch.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use url::{Position, Url};

use crate::offer::Offer;

/// Longest a whole request (connect, send, answer) may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A `Retry-After` longer than this is cut down to it, so a receiver cannot
/// park a channel's queue for days with one header.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Header carrying the request's Unix time, in seconds.
pub const TIMESTAMP_HEADER: &str = "X-Veille-Timestamp";
/// Header carrying [`signature`].
pub const SIGNATURE_HEADER: &str = "X-Veille-Signature";

/// Caps on web text, so one runaway feed cannot bloat a message.
const TITLE_CHARS: usize = 200;
const FIELD_CHARS: usize = 120;
const SUMMARY_CHARS: usize = 300;
const WORDS_CHARS: usize = 200;
/// How much of a refusing server's answer the reason keeps.
const REASON_CHARS: usize = 200;

/// Slack: at most 50 blocks a message; one is the header and one may say
/// how many offers did not fit.
const SLACK_SECTIONS: usize = 48;
/// Slack header blocks hold at most 150 characters.
const SLACK_HEADER_CHARS: usize = 150;
/// Discord: embeds per message, and characters over all of a message's
/// embeds (documented limit 6000; a margin for counting differences).
const DISCORD_EMBEDS: usize = 10;
const DISCORD_EMBED_BUDGET: usize = 5800;
const DISCORD_TITLE_CHARS: usize = 256;
const DISCORD_DESCRIPTION_CHARS: usize = 4096;
const DISCORD_FIELD_CHARS: usize = 1024;
/// Mattermost splits or refuses posts beyond 16383 characters.
const MATTERMOST_CHARS: usize = 12_000;
/// ntfy turns messages over 4096 bytes into attachments.
const NTFY_BYTES: usize = 3_500;

/// A webhook's body format (`format = "…"` in the watchlist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The contract's `{"profile": NAME, "offers": [OFFER, …]}`.
    Json,
    /// Slack incoming webhook (Block Kit).
    Slack,
    /// Discord webhook (embeds).
    Discord,
    /// Mattermost incoming webhook (markdown text).
    Mattermost,
    /// ntfy topic URL (plain-text message, metadata in headers).
    Ntfy,
}

impl Format {
    /// The format named by a watchlist value, or `None` when unknown.
    pub fn from_key(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "slack" => Some(Format::Slack),
            "discord" => Some(Format::Discord),
            "mattermost" => Some(Format::Mattermost),
            "ntfy" => Some(Format::Ntfy),
            _ => None,
        }
    }
}

/// One offer of a batch, with the profile words it matched.
#[derive(Debug, Clone, Copy)]
pub struct Hook<'a> {
    /// The offer.
    pub offer: &'a Offer,
    /// The profile words found in it.
    pub words: &'a [String],
}

/// One request body, ready for [`post`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body bytes (also what the signature covers).
    pub bytes: Vec<u8>,
    /// Extra headers, e.g. ntfy's Title/Tags/Click when using its header
    /// form. Values are one line of printable ASCII.
    pub headers: Vec<(String, String)>,
}

/// What a POST came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the receiver has it.
    Delivered,
    /// 4xx other than 408/429: give up, move to failed.
    Refused(String),
    /// 5xx, 408, 429, timeouts, network: retry (Retry-After honoured for 429/503).
    Retry {
        /// One line saying what happened.
        reason: String,
        /// The receiver's `Retry-After`, capped at [`MAX_RETRY_AFTER`].
        after: Option<Duration>,
    },
}

/// The request bodies for one batch: one for every format except Discord
/// (embeds, at most 10 per message, split when more). No offers, no bodies.
pub fn bodies(format: Format, profile: &str, offers: &[Hook<'_>]) -> Vec<Body> {
    if offers.is_empty() {
        return Vec::new();
    }
    match format {
        Format::Json => vec![json_batch(profile, offers)],
        Format::Slack => vec![slack(profile, offers)],
        Format::Discord => discord(profile, offers),
        Format::Mattermost => vec![mattermost(profile, offers)],
        Format::Ntfy => vec![ntfy(profile, offers)],
    }
}

/// "sha256=<hex HMAC-SHA256 of "TIMESTAMP.BODY">"
///
/// The timestamp is signed with the body so a receiver that checks it is
/// recent also defeats replays of an old request.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC accepts keys of any length, so this cannot happen; an empty
        // signature fails verification rather than panicking.
        return "sha256=".to_owned();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// POSTs `body` to `url` and classifies the answer; adds X-Veille-Signature
/// and X-Veille-Timestamp when a secret is given.
///
/// Reasons never contain the URL: Slack and Discord webhook URLs are
/// themselves secrets, and reasons end up in logs and `status`.
pub async fn post(
    client: &reqwest::Client,
    url: &Url,
    body: &Body,
    secret: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Outcome {
    let mut request = client
        .post(url.clone())
        .timeout(TIMEOUT)
        .header(CONTENT_TYPE, body.content_type)
        .body(body.bytes.clone());
    for (name, value) in &body.headers {
        // `HeaderValue` refuses CR, LF and other controls: a header that is
        // not safe to send is left out rather than sent broken.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            request = request.header(name, value);
        }
    }
    if let Some(secret) = secret {
        let timestamp = now.timestamp();
        request = request
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature(secret, timestamp, &body.bytes));
    }
    match request.send().await {
        Ok(response) => classify(response, now).await,
        Err(e) => Outcome::Retry {
            reason: request_error(e),
            after: None,
        },
    }
}

/// Turns an HTTP answer into an [`Outcome`].
async fn classify(mut response: reqwest::Response, now: DateTime<Utc>) -> Outcome {
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let code = status.as_u16();
    let after = match code {
        429 | 503 => retry_after(response.headers(), now),
        _ => None,
    };
    let mut reason = format!("HTTP {status}");
    let snippet = body_snippet(&mut response).await;
    if !snippet.is_empty() {
        reason.push_str(": ");
        reason.push_str(&snippet);
    }
    match code {
        408 | 429 => Outcome::Retry { reason, after },
        400..=499 => Outcome::Refused(reason),
        // 5xx, and 1xx/3xx that the client did not resolve: not accepted,
        // but nothing says the receiver will refuse it next time.
        _ => Outcome::Retry { reason, after },
    }
}

/// The start of an error answer's body, one line: receivers often say
/// there why they refused.
async fn body_snippet(response: &mut reqwest::Response) -> String {
    const MAX_BYTES: usize = 1024;
    let mut bytes = Vec::new();
    while bytes.len() < MAX_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(MAX_BYTES);
    clean(&String::from_utf8_lossy(&bytes), REASON_CHARS)
}

/// `Retry-After` as seconds or an HTTP date, capped.
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let when = DateTime::parse_from_rfc2822(value).ok()?;
            // A date in the past means "now".
            (when.with_timezone(&Utc) - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// One line saying why a request got no answer, without its URL.
fn request_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        return format!("timed out after {}s", TIMEOUT.as_secs());
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".to_owned(),
                std::io::ErrorKind::TimedOut => {
                    return format!("timed out after {}s", TIMEOUT.as_secs());
                }
                _ => {}
            }
        }
        cause = c.source();
    }
    clean(&super::error_chain(&e), REASON_CHARS)
}

/// Serialises a body made of plain data (strings, numbers, dates, vectors
/// and string-keyed maps), which serde_json cannot fail on; an empty
/// object stands in rather than a panic should that ever change.
fn json_body(value: &impl Serialize) -> Body {
    Body {
        content_type: "application/json",
        bytes: serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
        headers: Vec::new(),
    }
}

/// The contract's webhook JSON: every offer key present, null when unknown
/// (that is `Offer`'s own serialisation, the one `--json` prints).
fn json_batch(profile: &str, offers: &[Hook<'_>]) -> Body {
    #[derive(Serialize)]
    struct Batch<'a> {
        profile: &'a str,
        offers: Vec<&'a Offer>,
    }
    json_body(&Batch {
        profile,
        offers: offers.iter().map(|h| h.offer).collect(),
    })
}

/// Slack Block Kit: a header, a section per offer (mrkdwn), and a `text`
/// fallback for notifications.
fn slack(profile: &str, offers: &[Hook<'_>]) -> Body {
    let heading = headline(profile, offers.len());
    let mut blocks = vec![json!({
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": clean(&heading, SLACK_HEADER_CHARS),
        },
    })];
    // With one block to spare, the last offer fits instead of a "more" line.
    let shown = if offers.len() <= SLACK_SECTIONS + 1 {
        offers.len()
    } else {
        SLACK_SECTIONS
    };
    for hook in &offers[..shown] {
        let o = hook.offer;
        let title = slack_escape(&title_of(o));
        let mut text = match link(o.url.as_deref()) {
            Some(url) => format!("*<{}|{title}>*", slack_escape(&url)),
            None => format!("*{title}*"),
        };
        let details = details(o);
        if !details.is_empty() {
            text.push('\n');
            text.push_str(&slack_escape(&details));
        }
        if let Some(words) = words(hook.words) {
            text.push_str("\nMatched: ");
            text.push_str(&slack_escape(&words));
        }
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": text },
        }));
    }
    if shown < offers.len() {
        blocks.push(json!({
            "type": "context",
            "elements": [{
                "type": "mrkdwn",
                "text": format!("…and {} more", offers.len() - shown),
            }],
        }));
    }
    let titles: Vec<String> = offers.iter().map(|h| title_of(h.offer)).collect();
    let fallback = clean(&format!("{heading}: {}", titles.join(", ")), 300);
    json_body(&json!({
        "text": slack_escape(&fallback),
        "blocks": blocks,
    }))
}

/// Discord: messages of at most 10 embeds and at most the per-message
/// character budget; mentions are disabled so a posting cannot ping.
fn discord(profile: &str, offers: &[Hook<'_>]) -> Vec<Body> {
    let mut chunks: Vec<Vec<(Value, usize)>> = Vec::new();
    let mut current: Vec<(Value, usize)> = Vec::new();
    let mut used = 0;
    for hook in offers {
        let (embed, size) = discord_embed(hook);
        if !current.is_empty()
            && (current.len() == DISCORD_EMBEDS || used + size > DISCORD_EMBED_BUDGET)
        {
            chunks.push(std::mem::take(&mut current));
            used = 0;
        }
        used += size;
        current.push((embed, size));
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    let heading = markdown_escape(&headline(profile, offers.len()), 1000);
    let parts = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let content = if parts > 1 {
                format!("{heading} ({}/{parts})", i + 1)
            } else {
                heading.clone()
            };
            let embeds: Vec<Value> = chunk.into_iter().map(|(e, _)| e).collect();
            json_body(&json!({
                "content": content,
                "embeds": embeds,
                "allowed_mentions": { "parse": [] },
            }))
        })
        .collect()
}

/// One offer as a Discord embed, and how many characters count against the
/// message's budget.
fn discord_embed(hook: &Hook<'_>) -> (Value, usize) {
    let o = hook.offer;
    let title = markdown_escape(&title_of(o), DISCORD_TITLE_CHARS);
    let mut size = title.chars().count();
    let mut embed = serde_json::Map::new();
    embed.insert("title".to_owned(), Value::String(title));
    if let Some(url) = link(o.url.as_deref()) {
        embed.insert("url".to_owned(), Value::String(url));
    }
    if let Some(summary) = field_of(o.summary.as_deref(), SUMMARY_CHARS) {
        let description = markdown_escape(&summary, DISCORD_DESCRIPTION_CHARS);
        size += description.chars().count();
        embed.insert("description".to_owned(), Value::String(description));
    }
    let mut fields = Vec::new();
    let remote = o.remote.map(|r| if r { "yes" } else { "no" }.to_owned());
    for (name, value) in [
        ("Company", field(o.company.as_deref())),
        ("Location", field(o.location.as_deref())),
        ("Contract", field(o.contract.as_deref())),
        ("Remote", remote),
        ("Matched", words(hook.words)),
        ("Seen on", words(&o.sources)),
    ] {
        if let Some(value) = value {
            let value = markdown_escape(&value, DISCORD_FIELD_CHARS);
            size += name.len() + value.chars().count();
            fields.push(json!({ "name": name, "value": value, "inline": true }));
        }
    }
    if !fields.is_empty() {
        embed.insert("fields".to_owned(), Value::Array(fields));
    }
    (Value::Object(embed), size)
}

/// Mattermost: one markdown post, a heading and a line per offer.
fn mattermost(profile: &str, offers: &[Hook<'_>]) -> Body {
    let mut text = format!(
        "#### {}\n",
        markdown_escape(&headline(profile, offers.len()), 1000)
    );
    for (i, hook) in offers.iter().enumerate() {
        let o = hook.offer;
        let title = markdown_escape(&title_of(o), 2 * TITLE_CHARS);
        let mut line = match link(o.url.as_deref()) {
            Some(url) => format!("- [{title}]({url})"),
            None => format!("- {title}"),
        };
        let details = details(o);
        if !details.is_empty() {
            line.push_str(" — ");
            line.push_str(&markdown_escape(&details, 4 * FIELD_CHARS));
        }
        if let Some(words) = words(hook.words) {
            line.push_str(" — matched: ");
            line.push_str(&markdown_escape(&words, 2 * WORDS_CHARS));
        }
        line.push('\n');
        if text.chars().count() + line.chars().count() > MATTERMOST_CHARS {
            text.push_str(&format!("- …and {} more\n", offers.len() - i));
            break;
        }
        text.push_str(&line);
    }
    json_body(&json!({ "text": text }))
}

/// ntfy's header form: the body is the plain-text message, and Title, Tags
/// and Click go in headers, so the user's full topic URL works as is (the
/// JSON form would need the topic in the body and the server root as URL).
fn ntfy(profile: &str, offers: &[Hook<'_>]) -> Body {
    let mut headers = Vec::new();
    let mut message = String::new();
    if let [hook] = offers {
        let o = hook.offer;
        headers.push(("Title".to_owned(), header_text(&title_of(o))));
        let details = details(o);
        if !details.is_empty() {
            message.push_str(&details);
            message.push('\n');
        }
        if let Some(words) = words(hook.words) {
            message.push_str(&format!("Matched: {words}\n"));
        }
        if let Some(url) = link(o.url.as_deref()) {
            message.push_str(&url);
            message.push('\n');
            headers.push(("Click".to_owned(), url));
        }
        if message.is_empty() {
            message = title_of(o);
        }
    } else {
        headers.push((
            "Title".to_owned(),
            header_text(&headline(profile, offers.len())),
        ));
        for (i, hook) in offers.iter().enumerate() {
            let o = hook.offer;
            let mut entry = format!("• {}", title_of(o));
            if let Some(company) = field(o.company.as_deref()) {
                entry.push_str(" — ");
                entry.push_str(&company);
            }
            entry.push('\n');
            if let Some(url) = link(o.url.as_deref()) {
                entry.push_str(&format!("  {url}\n"));
            }
            if message.len() + entry.len() > NTFY_BYTES {
                message.push_str(&format!("…and {} more\n", offers.len() - i));
                break;
            }
            message.push_str(&entry);
        }
    }
    headers.push(("Tags".to_owned(), "briefcase".to_owned()));
    Body {
        content_type: "text/plain; charset=utf-8",
        bytes: message.trim_end().as_bytes().to_vec(),
        headers,
    }
}

/// "N new offers for PROFILE" (one line).
fn headline(profile: &str, count: usize) -> String {
    let profile = clean(profile, FIELD_CHARS);
    match count {
        1 => format!("1 new offer for {profile}"),
        n => format!("{n} new offers for {profile}"),
    }
}

fn title_of(o: &Offer) -> String {
    let title = clean(&o.title, TITLE_CHARS);
    if title.is_empty() {
        "(untitled)".to_owned()
    } else {
        title
    }
}

/// "Company · Location · contract · remote", whatever is known.
fn details(o: &Offer) -> String {
    let mut parts: Vec<String> = [&o.company, &o.location, &o.contract]
        .into_iter()
        .filter_map(|f| field(f.as_deref()))
        .collect();
    if o.remote == Some(true) {
        parts.push("remote".to_owned());
    }
    parts.join(" · ")
}

fn field(value: Option<&str>) -> Option<String> {
    field_of(value, FIELD_CHARS)
}

/// A cleaned, capped value; `None` when nothing is left of it.
fn field_of(value: Option<&str>, max: usize) -> Option<String> {
    value.map(|v| clean(v, max)).filter(|v| !v.is_empty())
}

fn words(words: &[String]) -> Option<String> {
    let joined = words
        .iter()
        .map(|w| clean(w, FIELD_CHARS))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (!joined.is_empty()).then(|| clean(&joined, WORDS_CHARS))
}

/// The URL to use as a link target, or `None` unless it is an absolute
/// http(s) URL with a host. It comes back re-serialised by `url` (so
/// ASCII, no spaces or controls), with the characters that would end a
/// Slack `<url|text>` or a markdown `(url)` percent-encoded.
fn link(raw: Option<&str>) -> Option<String> {
    let url = Url::parse(raw?.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    let mut out = url[..Position::BeforePath].to_owned();
    for c in url[Position::BeforePath..].chars() {
        match c {
            '(' | ')' | '|' | '<' | '>' | '[' | ']' | '{' | '}' | '"' | '\'' | '\\' | '^' | '`'
            | ' ' => out.push_str(&format!("%{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    Some(out)
}

/// Slack mrkdwn's only escapes: `&`, `<` and `>` (which also keeps web text
/// from forming links or `<!channel>` mentions).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Backslash-escapes markdown punctuation (Discord, Mattermost), breaks
/// `@mentions` with a zero-width space, and caps the result at `max`
/// characters without splitting an escape.
fn markdown_escape(s: &str, max: usize) -> String {
    let pieces: Vec<(char, Option<char>)> = s
        .chars()
        .map(|c| match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '<' | '>' | '~' | ':' => ('\\', Some(c)),
            '@' => ('@', Some('\u{200b}')),
            c => (c, None),
        })
        .collect();
    let width = |p: &(char, Option<char>)| 1 + usize::from(p.1.is_some());
    let total: usize = pieces.iter().map(width).sum();
    // Room for the ellipsis only when something is cut.
    let budget = if total <= max {
        max
    } else {
        max.saturating_sub(1)
    };
    let mut out = String::new();
    let mut used = 0;
    for piece in &pieces {
        if used + width(piece) > budget {
            out.push('…');
            break;
        }
        out.push(piece.0);
        out.extend(piece.1);
        used += width(piece);
    }
    out
}

/// A header value as printable ASCII on one line: as is when it already
/// is, else RFC 2047 encoded words (which ntfy decodes).
fn header_text(s: &str) -> String {
    let line = clean(s, TITLE_CHARS);
    if line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return line;
    }
    // Encoded words stay under RFC 2047's 75 characters: 45 bytes of UTF-8
    // make 60 of base64, plus the 12 of `=?UTF-8?B??=`.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in line.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join(" ")
}

fn encoded_word(s: &str) -> String {
    format!("=?UTF-8?B?{}?=", base64(s.as_bytes()))
}

/// Standard base64 with padding; a dozen lines rather than a dependency for
/// a few header values.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Web text as one clean line of at most `max` characters: controls and
/// line breaks become spaces (so nothing can start a new header or
/// markdown block), bidi overrides are dropped.
fn clean(s: &str, max: usize) -> String {
    let out = super::flatten(s);
    match out.char_indices().nth(max) {
        Some((cut, _)) => {
            let mut cut = out[..cut].trim_end().to_owned();
            cut.push('…');
            cut
        }
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::{BTreeSet, HashMap};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::thread::JoinHandle;

    fn offer(id: &str, title: &str, url: Option<&str>) -> Offer {
        Offer {
            id: id.to_owned(),
            title: title.to_owned(),
            company: Some("Acme & Co".to_owned()),
            location: Some("Rouen".to_owned()),
            url: url.map(str::to_owned),
            published: Utc.with_ymd_and_hms(2024, 5, 6, 22, 30, 0).single(),
            first_seen: Utc.with_ymd_and_hms(2024, 5, 7, 6, 0, 0).unwrap(),
            summary: Some("Build things in Rust.".to_owned()),
            remote: Some(true),
            contract: Some("internship".to_owned()),
            sources: vec!["wttj".to_owned()],
            matches: vec!["alice".to_owned()],
            tags: vec!["backend".to_owned()],
            valid_through: None,
            salary: None,
        }
    }

    const HOSTILE: &str = "<script>alert(1)</script> & *bold* @everyone <!channel> \
        [x](javascript:alert(1))\r\nX-Injected: 1";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 7, 8, 0, 0).unwrap()
    }

    fn hooks<'a>(offers: &'a [Offer], words: &'a [String]) -> Vec<Hook<'a>> {
        offers.iter().map(|offer| Hook { offer, words }).collect()
    }

    fn parse(body: &Body) -> Value {
        serde_json::from_slice(&body.bytes).unwrap()
    }

    /// A request as the loopback receiver read it.
    struct Request {
        head: String,
        headers: HashMap<String, String>,
        body: Vec<u8>,
    }

    /// A loopback HTTP receiver: answers each of `answers` in turn (status
    /// line and extra header lines), then stops.
    fn receiver(answers: Vec<&'static str>) -> (Url, mpsc::Receiver<Request>, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!(
            "http://{}/hook/secret-token",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for answer in answers {
                let (stream, _) = listener.accept().unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                reader.read_line(&mut head).unwrap();
                let mut headers = HashMap::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap();
                    headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
                }
                let length: usize = headers
                    .get("content-length")
                    .map_or(0, |l| l.parse().unwrap());
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let reply = format!(
                    "HTTP/1.1 {answer}\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
                );
                let mut stream = stream;
                stream.write_all(reply.as_bytes()).unwrap();
                let _ = tx.send(Request {
                    head,
                    headers,
                    body,
                });
            }
        });
        (url, rx, thread)
    }

    fn client() -> reqwest::Client {
        // No proxy: a proxy from the environment would turn loopback tests
        // into network tests.
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    fn json_body_of(offers: &[Offer]) -> Body {
        bodies(Format::Json, "alice", &hooks(offers, &[])).remove(0)
    }

    #[tokio::test]
    async fn signed_post_is_delivered() {
        let (url, rx, thread) = receiver(vec!["200 OK"]);
        let offers = [offer(
            "1",
            "Rust intern",
            Some("https://jobs.example.com/1"),
        )];
        let body = json_body_of(&offers);
        let outcome = post(&client(), &url, &body, Some(b"topsecret"), now()).await;
        assert_eq!(outcome, Outcome::Delivered);
        let req = rx.recv().unwrap();
        thread.join().unwrap();
        assert!(
            req.head.starts_with("POST /hook/secret-token "),
            "{}",
            req.head
        );
        assert_eq!(req.headers["content-type"], "application/json");
        assert_eq!(req.body, body.bytes);
        let timestamp = &req.headers["x-veille-timestamp"];
        assert_eq!(timestamp, &now().timestamp().to_string());
        // Recomputed here from the received bytes, not with `signature`.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"topsecret").unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&req.body);
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(req.headers["x-veille-signature"], format!("sha256={want}"));
    }

    #[test]
    fn signature_known_answer() {
        // python3: hmac.new(b"topsecret", b'1700000000.{"a":1}', sha256)
        assert_eq!(
            signature(b"topsecret", 1_700_000_000, br#"{"a":1}"#),
            "sha256=6a939b0c71853d606167625a15168ee9188c6a511c773ef4f42d307f3849e50f"
        );
    }

    #[tokio::test]
    async fn unsigned_post_has_no_signature_headers() {
        let (url, rx, thread) = receiver(vec!["204 No Content"]);
        let offers = [offer("1", "Rust intern", None)];
        let outcome = post(&client(), &url, &json_body_of(&offers), None, now()).await;
        assert_eq!(outcome, Outcome::Delivered);
        let req = rx.recv().unwrap();
        thread.join().unwrap();
        assert!(!req.headers.contains_key("x-veille-signature"));
        assert!(!req.headers.contains_key("x-veille-timestamp"));
    }

    #[tokio::test]
    async fn statuses_are_classified() {
        let answers = vec![
            "500 Internal Server Error",
            "503 Service Unavailable\r\nRetry-After: 7",
            "410 Gone",
            "408 Request Timeout",
            "429 Too Many Requests\r\nRetry-After: Tue, 07 May 2024 08:01:00 GMT",
            "400 Bad Request",
            "429 Too Many Requests\r\nRetry-After: 99999999",
        ];
        let (url, _rx, thread) = receiver(answers);
        let offers = [offer("1", "Rust intern", None)];
        let body = json_body_of(&offers);
        let client = client();
        let mut outcomes = Vec::new();
        for _ in 0..7 {
            outcomes.push(post(&client, &url, &body, None, now()).await);
        }
        thread.join().unwrap();
        let retry = |reason: &str, after: Option<u64>| Outcome::Retry {
            reason: reason.to_owned(),
            after: after.map(Duration::from_secs),
        };
        assert_eq!(
            outcomes,
            [
                retry("HTTP 500 Internal Server Error: nope", None),
                retry("HTTP 503 Service Unavailable: nope", Some(7)),
                Outcome::Refused("HTTP 410 Gone: nope".to_owned()),
                retry("HTTP 408 Request Timeout: nope", None),
                retry("HTTP 429 Too Many Requests: nope", Some(60)),
                Outcome::Refused("HTTP 400 Bad Request: nope".to_owned()),
                retry(
                    "HTTP 429 Too Many Requests: nope",
                    Some(MAX_RETRY_AFTER.as_secs())
                ),
            ]
        );
    }

    #[tokio::test]
    async fn connection_refused_is_retry_without_url() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!(
            "http://{}/services/T0/B0/secret-token",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        drop(listener);
        let offers = [offer("1", "Rust intern", None)];
        let outcome = post(&client(), &url, &json_body_of(&offers), None, now()).await;
        let Outcome::Retry { reason, after } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(after, None);
        assert_eq!(reason, "connection refused");
    }

    #[tokio::test]
    async fn unsafe_extra_headers_are_dropped() {
        let (url, rx, thread) = receiver(vec!["200 OK"]);
        let body = Body {
            content_type: "text/plain",
            bytes: b"hi".to_vec(),
            headers: vec![
                ("Title".to_owned(), "ok".to_owned()),
                ("Tags".to_owned(), "a\r\nX-Injected: 1".to_owned()),
            ],
        };
        assert_eq!(
            post(&client(), &url, &body, None, now()).await,
            Outcome::Delivered
        );
        let req = rx.recv().unwrap();
        thread.join().unwrap();
        assert_eq!(req.headers["title"], "ok");
        assert!(!req.headers.contains_key("tags"));
        assert!(!req.headers.contains_key("x-injected"));
    }

    #[test]
    fn format_keys() {
        for (key, format) in [
            ("json", Format::Json),
            ("slack", Format::Slack),
            ("discord", Format::Discord),
            ("mattermost", Format::Mattermost),
            ("ntfy", Format::Ntfy),
        ] {
            assert_eq!(Format::from_key(key), Some(format));
        }
        assert_eq!(Format::from_key("teams"), None);
        assert_eq!(Format::from_key("JSON"), None);
    }

    #[test]
    fn no_offers_no_bodies() {
        assert!(bodies(Format::Json, "alice", &[]).is_empty());
        assert!(bodies(Format::Discord, "alice", &[]).is_empty());
    }

    #[test]
    fn json_body_has_every_offer_key() {
        let mut sparse = offer("2", "Sparse", None);
        sparse.company = None;
        sparse.published = None;
        sparse.remote = None;
        let offers = [
            offer("1", "Rust intern", Some("https://x.example/1")),
            sparse,
        ];
        let body = json_body_of(&offers);
        assert_eq!(body.content_type, "application/json");
        let v = parse(&body);
        let top: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(top, BTreeSet::from(["profile", "offers"]));
        assert_eq!(v["profile"], "alice");
        let got = v["offers"].as_array().unwrap();
        assert_eq!(got.len(), 2);
        for (o, got) in offers.iter().zip(got) {
            assert_eq!(got, &serde_json::to_value(o).unwrap());
        }
        let keys: BTreeSet<&str> = got[1]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "id",
            "title",
            "company",
            "location",
            "url",
            "published",
            "first_seen",
            "summary",
            "remote",
            "contract",
            "sources",
            "matches",
        ] {
            assert!(keys.contains(key), "{key} missing");
        }
        assert_eq!(got[1]["company"], Value::Null);
        assert_eq!(got[1]["published"], Value::Null);
        assert_eq!(got[1]["remote"], Value::Null);
    }

    fn hostile_batch() -> [Offer; 2] {
        [
            offer(
                "1",
                "Rust intern",
                Some("https://jobs.example.com/1?a=1&b=(2)"),
            ),
            offer("2", HOSTILE, Some("javascript:alert(1)")),
        ]
    }

    #[test]
    fn slack_blocks_link_and_escape() {
        let offers = hostile_batch();
        let words = vec!["rust".to_owned()];
        let body = bodies(Format::Slack, "alice", &hooks(&offers, &words)).remove(0);
        let v = parse(&body);
        assert_eq!(v["text"].as_str().unwrap().lines().count(), 1);
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["text"], "2 new offers for alice");
        assert_eq!(blocks.len(), 3);
        let first = blocks[1]["text"]["text"].as_str().unwrap();
        assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
        assert_eq!(
            first,
            "*<https://jobs.example.com/1?a=1&amp;b=%282%29|Rust intern>*\n\
             Acme &amp; Co · Rouen · internship · remote\nMatched: rust"
        );
        let second = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(
            second.starts_with("*&lt;script&gt;alert(1)&lt;/script&gt; &amp;"),
            "{second}"
        );
        assert!(!second.contains('<'), "{second}");
        assert!(!second.contains("X-Injected: 1\n"), "{second}");
        let all = String::from_utf8(body.bytes).unwrap();
        assert!(!all.contains("<!channel>"), "{all}");
        assert!(!all.contains("<javascript"), "{all}");
    }

    #[test]
    fn slack_caps_blocks_at_fifty() {
        let offers: Vec<Offer> = (0..60)
            .map(|i| offer(&i.to_string(), "Dev", None))
            .collect();
        let body = bodies(Format::Slack, "alice", &hooks(&offers, &[])).remove(0);
        let v = parse(&body);
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 50);
        assert_eq!(blocks[49]["elements"][0]["text"], "…and 12 more");
    }

    #[test]
    fn mattermost_markdown_escaped() {
        let offers = hostile_batch();
        let body = bodies(Format::Mattermost, "alice", &hooks(&offers, &[])).remove(0);
        let v = parse(&body);
        let text = v["text"].as_str().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "#### 2 new offers for alice");
        assert_eq!(
            lines[1],
            "- [Rust intern](https://jobs.example.com/1?a=1&b=%282%29) — \
             Acme & Co · Rouen · internship · remote"
        );
        assert!(
            lines[2].starts_with(r"- \<script\>alert\(1\)\</script\> & \*bold\* @"),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains("@\u{200b}everyone"), "{}", lines[2]);
        assert!(
            lines[2].contains(r"\[x\]\(javascript\:alert\(1\)\)"),
            "{}",
            lines[2]
        );
        assert!(!text.contains("](javascript"), "{text}");
    }

    #[test]
    fn ntfy_header_form() {
        let offers = [offer(
            "1",
            "Développeur Rust — stage",
            Some("https://jobs.example.com/1"),
        )];
        let words = vec!["rust".to_owned()];
        let body = bodies(Format::Ntfy, "alice", &hooks(&offers, &words)).remove(0);
        assert_eq!(body.content_type, "text/plain; charset=utf-8");
        let text = String::from_utf8(body.bytes.clone()).unwrap();
        assert_eq!(
            text,
            "Acme & Co · Rouen · internship · remote\nMatched: rust\nhttps://jobs.example.com/1"
        );
        let headers: HashMap<&str, &str> = body
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(headers["Click"], "https://jobs.example.com/1");
        assert_eq!(headers["Tags"], "briefcase");
        let title = headers["Title"];
        assert!(title.is_ascii() && !title.contains(['\r', '\n']), "{title}");
        // RFC 2047, as ntfy decodes it.
        assert_eq!(
            title,
            format!(
                "=?UTF-8?B?{}?=",
                base64("Développeur Rust — stage".as_bytes())
            )
        );
    }

    #[test]
    fn ntfy_hostile_batch() {
        let offers = hostile_batch();
        let body = bodies(Format::Ntfy, "alice", &hooks(&offers, &[])).remove(0);
        let text = String::from_utf8(body.bytes.clone()).unwrap();
        assert!(
            text.contains("• Rust intern — Acme & Co\n  https://jobs.example.com/1?a=1&b=%282%29"),
            "{text}"
        );
        assert!(!text.contains("javascript:alert(1)\n"), "{text}");
        assert!(!text.contains("\r"), "{text}");
        for (name, value) in &body.headers {
            assert!(
                value.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "{name}: {value:?}"
            );
            assert_ne!(name, "Click", "no single link for a batch");
        }
        let single = [offers[1].clone()];
        let body = bodies(Format::Ntfy, "alice", &hooks(&single, &[])).remove(0);
        for (name, value) in &body.headers {
            assert_ne!(name, "Click", "javascript: is never a click target");
            assert!(!value.contains(['\r', '\n']), "{name}: {value:?}");
            assert!(value.is_ascii(), "{name}: {value:?}");
        }
    }

    #[test]
    fn discord_embeds_escape_and_link() {
        let offers = hostile_batch();
        let body = bodies(Format::Discord, "alice", &hooks(&offers, &[])).remove(0);
        let v = parse(&body);
        assert_eq!(v["content"], "2 new offers for alice");
        assert_eq!(v["allowed_mentions"]["parse"], json!([]));
        let embeds = v["embeds"].as_array().unwrap();
        assert_eq!(embeds[0]["title"], "Rust intern");
        assert_eq!(embeds[0]["url"], "https://jobs.example.com/1?a=1&b=%282%29");
        assert_eq!(embeds[0]["description"], r"Build things in Rust\.");
        assert_eq!(
            embeds[0]["fields"][0],
            json!({"name": "Company", "value": "Acme & Co", "inline": true})
        );
        assert!(embeds[1].get("url").is_none(), "{}", embeds[1]);
        let title = embeds[1]["title"].as_str().unwrap();
        assert!(title.starts_with(r"\<script\>"), "{title}");
        assert!(!title.contains('\n'), "{title}");
    }

    #[test]
    fn discord_limits() {
        let long = "x".repeat(1000);
        let mut o = offer("1", &long, Some("https://jobs.example.com/1"));
        o.summary = Some("y. ".repeat(3000));
        let offers = [o];
        let body = bodies(Format::Discord, "alice", &hooks(&offers, &[])).remove(0);
        let v = parse(&body);
        let embed = &v["embeds"][0];
        assert!(embed["title"].as_str().unwrap().chars().count() <= 256);
        assert!(embed["description"].as_str().unwrap().chars().count() <= 4096);
        assert!(embed["fields"].as_array().unwrap().len() <= 25);
    }

    #[test]
    fn discord_splits_23_offers_into_3_messages() {
        let offers: Vec<Offer> = (0..23)
            .map(|i| {
                offer(
                    &i.to_string(),
                    &format!("Offer {i}"),
                    Some("https://x.example/"),
                )
            })
            .collect();
        let bodies = bodies(Format::Discord, "alice", &hooks(&offers, &[]));
        let sizes: Vec<usize> = bodies
            .iter()
            .map(|b| parse(b)["embeds"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [10, 10, 3]);
        assert_eq!(
            parse(&bodies[2])["content"],
            "23 new offers for alice (3/3)"
        );
        assert_eq!(parse(&bodies[2])["embeds"][2]["title"], "Offer 22");
    }

    #[test]
    fn discord_respects_character_budget() {
        let offers: Vec<Offer> = (0..10)
            .map(|i| {
                let mut o = offer(&i.to_string(), &"t".repeat(250), None);
                o.summary = Some("s".repeat(300));
                o
            })
            .collect();
        let words = vec!["w".repeat(100), "v".repeat(100)];
        let bodies = bodies(Format::Discord, "alice", &hooks(&offers, &words));
        assert!(bodies.len() > 1);
        for body in &bodies {
            let v = parse(body);
            let total: usize = v["embeds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let text = |k: &str| e[k].as_str().map_or(0, |s| s.chars().count());
                    let fields: usize = e["fields"].as_array().map_or(0, |f| {
                        f.iter()
                            .map(|f| {
                                f["name"].as_str().unwrap().len()
                                    + f["value"].as_str().unwrap().chars().count()
                            })
                            .sum()
                    });
                    text("title") + text("description") + fields
                })
                .sum();
            assert!(total <= 6000, "{total}");
        }
    }

    #[test]
    fn links_only_http_and_https() {
        assert_eq!(link(Some("javascript:alert(1)")), None);
        assert_eq!(link(Some("data:text/html,hi")), None);
        assert_eq!(link(Some("ftp://x.example/")), None);
        assert_eq!(link(Some("http://")), None);
        assert_eq!(link(Some("/relative")), None);
        assert_eq!(link(None), None);
        assert_eq!(
            link(Some(" HTTPS://Jobs.Example.com/a b|c ")),
            Some("https://jobs.example.com/a%20b%7Cc".to_owned())
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (raw, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), want);
        }
    }

    #[test]
    fn long_header_text_is_split_into_short_encoded_words() {
        let value = header_text(&"é".repeat(100));
        for word in value.split(' ') {
            assert!(word.len() <= 75, "{word}");
            assert!(word.starts_with("=?UTF-8?B?") && word.ends_with("?="));
        }
    }
}
