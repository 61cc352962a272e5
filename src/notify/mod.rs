//! Delivery: turn a channel's queue into a digest and hand it over.
//!
//! Owns the queue's promise: an entry leaves a channel's queue only once the
//! channel accepted it (the Maildir file synced), in the same atomic write
//! that records the delivery, flushed before returning. Rendering is
//! `digest`'s job; writing a Maildir file is `maildir`'s.

pub mod digest;
pub mod maildir;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

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
    #[error("cannot write to the Maildir {path}: {source}")]
    Maildir {
        path: String,
        source: std::io::Error,
    },
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

/// Renders the digest of everything queued for `channel`, and unless `dry`,
/// delivers it and takes the entries off the queue.
pub async fn deliver(
    config: &Config,
    store: &Store,
    _fetcher: &crate::fetch::Fetcher,
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
    let (failing, alert) = failing_sources(config, store, profile, now)?;
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
    let no_words = Vec::new();
    let entries: Vec<Entry<'_>> = offers
        .iter()
        .map(|(_, s)| {
            let hit = s.hits.get(&profile.name);
            Entry {
                offer: &s.offer,
                score: hit.map_or(0.0, |h| h.score),
                words: hit.map_or(&no_words, |h| &h.words),
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
    let count = offers.len();
    if dry {
        return Ok(Delivered::Sent {
            offers: count,
            rendered: Some(Box::new(rendered)),
        });
    }
    let result = match &channel.kind {
        ChannelKind::Maildir(path) => {
            let to = vec![format!("{}@localhost", profile.name)];
            let envelope = Envelope {
                from: "veille <veille@localhost>",
                to: &to,
                list_id: &format!("{}.veille.localhost", profile.name),
                date: now,
            };
            digest::to_message(&rendered, &envelope)
                .map_err(DeliveryError::from)
                .and_then(|msg| {
                    maildir::deliver(path, &msg).map_err(|source| DeliveryError::Maildir {
                        path: path.display().to_string(),
                        source,
                    })
                })
        }
    };
    let mut w = store.writer();
    let mut st = store.channel_state(&profile.name, &channel.id)?;
    st.last_attempt = Some(now);
    match result {
        Ok(file) => {
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
            w.put_channel_state(&profile.name, &channel.id, &st)?;
            w.commit()?;
            store.flush()?;
            info!(profile = %profile.name, channel = %channel.id, offers = count, file = %file.display(), "Digest delivered.");
            Ok(Delivered::Sent {
                offers: count,
                rendered: Some(Box::new(rendered)),
            })
        }
        Err(e) => {
            warn!(profile = %profile.name, channel = %channel.id, error = %e, "Delivery failed; the digest stays queued.");
            st.last_error = Some(e.to_string().replace(['\n', '\r'], " "));
            st.attempts += 1;
            w.put_channel_state(&profile.name, &channel.id, &st)?;
            w.commit()?;
            store.flush()?;
            Err(e)
        }
    }
}
