//! Delivery: turn a channel's queue into a digest and hand it over.
//!
//! Owns the queue's promise: an entry leaves a channel's queue only once the
//! channel accepted it (the Maildir file synced), in the same atomic write
//! that records the delivery, flushed before returning. Rendering is
//! `digest`'s job; writing a Maildir file is `maildir`'s.

pub mod atom;
pub mod digest;
pub mod email;
pub mod maildir;
pub mod webhook;

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::config::{Channel, ChannelKind, Config, Profile};
use crate::store::{QueueEntry, Store, StoreError, StoredOffer};
use digest::{Digest, Entry, Envelope, FailingSource, Rendered};

/// A source failing this long is reported even when nothing is queued.
pub const FAILING_ALERT: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot render the digest: {0}")]
    Render(#[from] digest::DigestError),
    /// The attempt failed; the batch stays queued for a retry.
    #[error("{0}")]
    Failed(String),
    /// The channel refused the batch for good; it is on the failed list.
    #[error("refused for good: {0}")]
    Refused(String),
}

/// What a delivery attempt did.
#[derive(Debug)]
pub enum Delivered {
    /// Nothing queued and nothing failing: no digest.
    Nothing,
    /// A digest of `offers` offers went out (or, dry, was rendered).
    /// Digests carry their rendering.
    Sent {
        offers: usize,
        rendered: Option<Box<Rendered>>,
    },
}

/// Sources of `profile` failing for more than [`FAILING_ALERT`], and, for the
/// footer, every source of it failing now.
fn failing_sources(
    config: &Config,
    store: &Store,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<(Vec<FailingSource>, bool), StoreError> {
    let mut out = Vec::new();
    let mut alert = false;
    for source in config.sources.iter().filter(|s| profile.reads(&s.name)) {
        let st = store.source_state(&source.name)?;
        if let Some(since) = st.failing_since {
            alert |= now - since > FAILING_ALERT;
            out.push(FailingSource {
                name: source.name.clone(),
                since,
                error: st.last_error.unwrap_or_default(),
            });
        }
    }
    Ok((out, alert))
}

/// How a delivery attempt failed.
enum Failure {
    /// Worth retrying (server down, timeout, 5xx): the batch stays queued;
    /// with the receiver's `Retry-After` when it gave one.
    Retry(String, Option<std::time::Duration>),
    /// Refused for good (HTTP 4xx other than 408/429, SMTP 5xx): the batch
    /// moves to the channel's failed list, kept and shown by `status`.
    Refused(String),
}

/// Renders what is queued for `channel` (a digest, webhook bodies, the Atom
/// file), and unless `dry`, delivers it and takes the entries off the queue
/// (or onto the failed list when the channel refused them for good).
pub async fn deliver(
    config: &Config,
    store: &Store,
    fetcher: &crate::fetch::Fetcher,
    profile: &Profile,
    channel: &Channel,
    now: DateTime<Utc>,
    dry: bool,
) -> Result<Delivered, DeliveryError> {
    let queued = store.queued(&profile.name, &channel.id)?;
    let mut offers: Vec<(QueueEntry, StoredOffer)> = Vec::new();
    let mut gone: Vec<QueueEntry> = Vec::new();
    for entry in queued {
        match store.offer(&entry.offer)? {
            Some(o) => offers.push((entry, o)),
            None => gone.push(entry),
        }
    }
    let digest_kind = matches!(
        channel.kind,
        ChannelKind::Email(_) | ChannelKind::Maildir(_)
    );
    let (failing, alert) = if digest_kind {
        failing_sources(config, store, profile, now)?
    } else {
        (Vec::new(), false)
    };
    if offers.is_empty() && !alert {
        if !dry {
            let mut w = store.writer();
            for e in &gone {
                w.dequeue(&profile.name, &channel.id, &e.offer);
            }
            let mut st = store.channel_state(&profile.name, &channel.id)?;
            st.last_run = Some(now);
            w.put_channel_state(&profile.name, &channel.id, &st)?;
            w.commit()?;
            store.flush()?;
        }
        return Ok(Delivered::Nothing);
    }
    let count = offers.len();
    let no_words: Vec<String> = Vec::new();
    fn words<'a>(s: &'a StoredOffer, profile: &str, none: &'a [String]) -> (f32, &'a [String]) {
        let hit = s.hits.get(profile);
        (hit.map_or(0.0, |h| h.score), hit.map_or(none, |h| &h.words))
    }
    let mut rendered_out = None;
    let result: Result<String, Failure> = match &channel.kind {
        ChannelKind::Email(_) | ChannelKind::Maildir(_) => {
            let entries: Vec<Entry<'_>> = offers
                .iter()
                .map(|(_, s)| {
                    let (score, words) = words(s, &profile.name, &no_words);
                    Entry {
                        offer: &s.offer,
                        score,
                        words,
                    }
                })
                .collect();
            let d = Digest {
                profile: &profile.name,
                language: config.daemon.language,
                entries,
                failing,
                now: now.with_timezone(&config.daemon.timezone),
                max_offers: channel.max_offers,
            };
            let rendered = digest::render(&d)?;
            if dry {
                return Ok(Delivered::Sent {
                    offers: count,
                    rendered: Some(Box::new(rendered)),
                });
            }
            let r = send_digest(config, profile, channel, &rendered, now).await;
            rendered_out = Some(Box::new(rendered));
            r
        }
        ChannelKind::Webhook {
            url,
            format,
            secret_env,
            secret_file,
        } => {
            let hooks: Vec<webhook::Hook<'_>> = offers
                .iter()
                .map(|(_, s)| webhook::Hook {
                    offer: &s.offer,
                    words: words(s, &profile.name, &no_words).1,
                })
                .collect();
            let bodies = webhook::bodies(*format, &profile.name, &hooks);
            if dry {
                return Ok(Delivered::Sent {
                    offers: count,
                    rendered: None,
                });
            }
            match read_secret(secret_env.as_deref(), secret_file.as_deref()) {
                Err(e) => Err(Failure::Retry(e, None)),
                Ok(secret) => {
                    let mut result = Ok(format!("{} request(s)", bodies.len()));
                    for body in &bodies {
                        match webhook::post(fetcher.client(), url, body, secret.as_deref(), now)
                            .await
                        {
                            webhook::Outcome::Delivered => {}
                            webhook::Outcome::Refused(r) => {
                                result = Err(Failure::Refused(r));
                                break;
                            }
                            webhook::Outcome::Retry { reason, after } => {
                                result = Err(Failure::Retry(reason, after));
                                break;
                            }
                        }
                    }
                    result
                }
            }
        }
        ChannelKind::Atom(path) => {
            let xml = profile_feed(store, &profile.name, now)?;
            if dry {
                return Ok(Delivered::Sent {
                    offers: count,
                    rendered: None,
                });
            }
            atom::write_atomic(path, xml.as_bytes())
                .map(|_| path.display().to_string())
                .map_err(|e| Failure::Retry(format!("cannot write {}: {e}", path.display()), None))
        }
    };

    let mut w = store.writer();
    let mut st = store.channel_state(&profile.name, &channel.id)?;
    st.last_attempt = Some(now);
    let outcome = match result {
        Ok(target) => {
            for (e, _) in &offers {
                w.dequeue(&profile.name, &channel.id, &e.offer);
            }
            for e in &gone {
                w.dequeue(&profile.name, &channel.id, &e.offer);
            }
            st.last_delivery = Some(now);
            st.last_run = Some(now);
            st.last_error = None;
            st.attempts = 0;
            st.retry_after = None;
            info!(profile = %profile.name, channel = %channel.id, offers = count, to = %target, "Delivered.");
            Ok(Delivered::Sent {
                offers: count,
                rendered: rendered_out,
            })
        }
        Err(Failure::Refused(reason)) => {
            for (e, _) in &offers {
                w.fail(&profile.name, &channel.id, e)?;
            }
            st.last_run = Some(now);
            st.last_error = Some(one_line(&reason));
            st.attempts = 0;
            error!(profile = %profile.name, channel = %channel.id, offers = count, error = %reason, "Refused for good; moved to the failed list.");
            Err(DeliveryError::Refused(one_line(&reason)))
        }
        Err(Failure::Retry(reason, after)) => {
            st.retry_after = after
                .and_then(|a| chrono::Duration::from_std(a).ok())
                .map(|a| now + a);
            st.last_error = Some(one_line(&reason));
            st.attempts += 1;
            warn!(profile = %profile.name, channel = %channel.id, error = %reason, "Delivery failed; it stays queued and will be retried.");
            Err(DeliveryError::Failed(one_line(&reason)))
        }
    };
    w.put_channel_state(&profile.name, &channel.id, &st)?;
    w.commit()?;
    store.flush()?;
    outcome
}

/// The last matches an Atom channel keeps.
pub const ATOM_ENTRIES: usize = 200;

/// A profile's last [`ATOM_ENTRIES`] matches, newest first, as an Atom feed:
/// what an `atom` channel writes and the daemon's `/feeds/PROFILE.atom` serves.
pub fn profile_feed(
    store: &Store,
    profile: &str,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let mut recent: Vec<crate::offer::Offer> = Vec::new();
    for stored in store.offers_newest() {
        let stored = stored?;
        if stored.offer.matches.iter().any(|m| m == profile) {
            recent.push(stored.offer);
            if recent.len() >= ATOM_ENTRIES {
                break;
            }
        }
    }
    let refs: Vec<&crate::offer::Offer> = recent.iter().collect();
    Ok(atom::render(profile, &refs, now))
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Each cause's own words, outermost first, joined by `: `. Some errors
/// (lettre's, reqwest's) repeat their cause's text at the end of theirs, so
/// that suffix is cut, and repeats are skipped.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(e);
    while let Some(c) = cause {
        let full = c.to_string();
        let own = match c.source() {
            Some(inner) => full
                .strip_suffix(&format!(": {inner}"))
                .map_or_else(|| full.clone(), str::to_owned),
            None => full,
        };
        if !own.is_empty() && parts.last() != Some(&own) {
            parts.push(own);
        }
        cause = c.source();
    }
    parts.join(": ")
}

/// Web text as one line: control characters, line breaks and runs of
/// whitespace become one space (none at the ends), and bidi overrides (used
/// to disguise text) are dropped. Callers cut it to their own length.
pub(crate) fn flatten(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// A webhook secret, from the environment or a file; never logged.
fn read_secret(
    env: Option<&str>,
    file: Option<&std::path::Path>,
) -> Result<Option<Vec<u8>>, String> {
    if let Some(name) = env {
        return match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Some(v.into_bytes())),
            _ => Err(format!("the webhook secret variable ${name} is not set")),
        };
    }
    if let Some(path) = file {
        return match std::fs::read_to_string(path) {
            Ok(v) => Ok(Some(v.trim_end_matches(['\n', '\r']).as_bytes().to_vec())),
            Err(e) => Err(format!(
                "cannot read the webhook secret file {}: {e}",
                path.display()
            )),
        };
    }
    Ok(None)
}

/// Sends or files a rendered digest.
async fn send_digest(
    config: &Config,
    profile: &Profile,
    channel: &Channel,
    rendered: &Rendered,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    let list_id = format!("{}.veille.localhost", profile.name);
    match &channel.kind {
        ChannelKind::Maildir(path) => {
            let to = vec![format!("{}@localhost", profile.name)];
            let envelope = Envelope {
                from: "veille <veille@localhost>",
                to: &to,
                list_id: &list_id,
                date: now,
            };
            let msg = digest::to_message(rendered, &envelope)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            maildir::deliver(path, &msg)
                .map(|f| f.display().to_string())
                .map_err(|e| {
                    Failure::Retry(
                        format!("cannot write to the Maildir {}: {e}", path.display()),
                        None,
                    )
                })
        }
        ChannelKind::Email(to) => {
            let Some(smtp) = &config.smtp else {
                return Err(Failure::Retry("no [smtp] table".into(), None));
            };
            let envelope = Envelope {
                from: &smtp.from,
                to,
                list_id: &list_id,
                date: now,
            };
            let msg = digest::to_message(rendered, &envelope)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let password = email::resolve_password(
                smtp.password_env.as_deref(),
                smtp.password_file.as_deref(),
            )
            .map_err(|e| Failure::Retry(e.to_string(), None))?;
            let settings = email::Smtp {
                server: smtp.server.clone(),
                port: smtp.port,
                security: smtp.security,
                username: smtp.username.clone(),
                password,
                from: smtp.from.clone(),
            };
            match email::send(&settings, to, &msg).await {
                Ok(()) => Ok(to.join(", ")),
                Err(e) if e.is_permanent() => Err(Failure::Refused(e.to_string())),
                Err(e) => Err(Failure::Retry(e.to_string(), None)),
            }
        }
        _ => Err(Failure::Refused("not a digest channel".into())),
    }
}
