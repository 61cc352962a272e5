//! One poll cycle, in the contract's order: fetch → adapt → store → match →
//! queue. The only module that knows that order.
//!
//! Each source is fetched and parsed on its own; a failure is recorded
//! against its name and the cycle goes on. One source's results are written
//! with one atomic batch (offers, dedupe keys, queue entries, state), and the
//! store is flushed once the cycle is done, before anything is reported.

use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tracing::{debug, info, warn};

use crate::config::{Config, Profile, Source};
use crate::fetch::Fetcher;
use crate::matcher::{Indexed, OfferText};
use crate::offer::Item;
use crate::source;
use crate::store::{Hit, Ingest, ProfileState, QueueEntry, Store, StoreError, StoredOffer, Writer};

/// What happened to one source in a cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A body was parsed: `items` read, `new` of them new offers.
    Ok {
        items: usize,
        new: usize,
    },
    NotModified,
    Failed(String),
}

/// The result of a cycle.
#[derive(Debug, Default)]
pub struct PollReport {
    /// Ids of the new offers, in the order first seen (read them from the
    /// store: a cold cycle may bring tens of thousands).
    pub new: Vec<String>,
    pub outcomes: Vec<(String, Outcome)>,
    /// Matches queued (offer × profile).
    pub matches: usize,
}

impl PollReport {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
            .count()
    }
}

/// Runs one poll cycle over `sources` (all when empty).
pub async fn poll(
    config: &Config,
    store: &Store,
    fetcher: &Fetcher,
    only: &[String],
) -> Result<PollReport, StoreError> {
    let started = Instant::now();
    let now = Utc::now();
    if let Ok(retention) = chrono::Duration::from_std(config.daemon.retention) {
        let forgotten = store.forget_before(now - retention)?;
        if forgotten > 0 {
            info!(forgotten, "Forgot offers older than the retention.");
        }
    }
    let mut report = PollReport::default();
    backfill(config, store, now, &mut report)?;

    let selected: Vec<&Source> = config
        .sources
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .collect();
    // Built as a Vec of futures, not a lazy map, so the stream's type holds
    // no closure (that keeps the cycle spawnable on the daemon's runtime).
    let fetches: Vec<_> = selected
        .into_iter()
        .map(|source| fetch_one(store, fetcher, source))
        .collect();
    let mut results =
        futures_util::stream::iter(fetches).buffer_unordered(config.daemon.concurrency);

    // An offer is `New` once (the store dedupes), so ids never repeat here.
    let mut new_ids: Vec<String> = Vec::new();
    while let Some((source, result)) = results.next().await {
        let mut w = store.writer();
        let mut state = w.source_state(&source.name)?;
        state.last_poll = Some(now);
        let outcome = match result {
            Ok(None) => {
                debug!(source = %source.name, "Not modified.");
                state.succeeded(now);
                Outcome::NotModified
            }
            Ok(Some(y)) => {
                let count = y.items.len();
                let mut new = 0;
                for item in y.items {
                    match ingest(config, &mut w, source, item, now, &mut report)? {
                        Stored::New(id) => {
                            new += 1;
                            state.offers += 1;
                            new_ids.push(id);
                        }
                        Stored::Merged => state.offers += 1,
                        Stored::Seen => {}
                    }
                }
                state.succeeded(now);
                state.validators = y.validators;
                state.url = Some(y.url);
                if y.did.is_some() {
                    state.did = y.did;
                }
                state.last_items = Some(count);
                state.empty_fetches = if count == 0 {
                    state.empty_fetches + 1
                } else {
                    0
                };
                debug!(source = %source.name, items = count, new, "Fetched.");
                Outcome::Ok { items: count, new }
            }
            Err(e) => {
                let reason = e.to_string();
                warn!(source = %source.name, error = %reason, "Source failed.");
                state.consecutive_failures += 1;
                state.failing_since.get_or_insert(now);
                state.last_error = Some(reason.clone());
                state.retry_after = match e {
                    source::SourceError::Fetch(crate::fetch::FetchError::Status {
                        retry_after: Some(secs),
                        ..
                    }) => Some(now + chrono::Duration::seconds(secs.min(86_400) as i64)),
                    _ => None,
                };
                Outcome::Failed(reason)
            }
        };
        w.put_source_state(&source.name, &state)?;
        w.commit()?;
        report.outcomes.push((source.name.clone(), outcome));
    }
    drop(results);
    store.flush()?;

    report.new = new_ids;
    let ok = report
        .outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Ok { .. }))
        .count();
    let not_modified = report
        .outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::NotModified)
        .count();
    info!(
        ok,
        not_modified,
        failed = report.failed(),
        new = report.new.len(),
        matches = report.matches,
        duration_ms = started.elapsed().as_millis() as u64,
        "Poll cycle done."
    );
    Ok(report)
}

async fn fetch_one<'a>(
    store: &Store,
    fetcher: &Fetcher,
    source: &'a Source,
) -> (
    &'a Source,
    Result<Option<source::Yield>, source::SourceError>,
) {
    let state = store.source_state(&source.name).unwrap_or_default();
    let result = source::fetch(fetcher, source, &state).await;
    (source, result)
}

/// What storing one item did.
enum Stored {
    /// A new offer to announce.
    New(String),
    /// Known from another source, or new but already expired: counted, not announced.
    Merged,
    Seen,
}

/// Stores one item; when it is a new offer, matches it against every profile
/// that reads `source` and queues the matches.
fn ingest(
    config: &Config,
    w: &mut Writer<'_>,
    source: &Source,
    item: Item,
    now: DateTime<Utc>,
    report: &mut PollReport,
) -> Result<Stored, StoreError> {
    let mut stored = match w.ingest(&source.name, item, now)? {
        Ingest::New(s) => s,
        Ingest::Merged(_) => return Ok(Stored::Merged),
        Ingest::Seen(_) => return Ok(Stored::Seen),
    };
    if stored.offer.valid_through.is_some_and(|t| t < now) {
        // Expired before we saw it: remembered for dedupe, never announced.
        w.put_offer(&stored)?;
        return Ok(Stored::Merged);
    }
    let matched = match_and_queue(w, &mut stored, config, |p| p.reads(&source.name), now)?;
    if matched == 0 {
        // match_and_queue writes the offer only when it changed it.
        w.put_offer(&stored)?;
    }
    report.matches += matched;
    Ok(Stored::New(stored.offer.id.clone()))
}

/// Evaluates the profiles that `wanted` picks on an offer, records the hits
/// on it and queues them on every channel of each matching profile. Returns
/// the number of matches.
fn match_and_queue(
    w: &mut Writer<'_>,
    stored: &mut StoredOffer,
    config: &Config,
    wanted: impl Fn(&Profile) -> bool,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let offer = &stored.offer;
    let indexed = Indexed::new(&OfferText {
        title: &offer.title,
        company: offer.company.as_deref(),
        location: offer.location.as_deref(),
        contract: offer.contract.as_deref(),
        tags: &offer.tags,
        summary: offer.summary.as_deref(),
        remote: offer.remote,
    });
    let mut eval = config.matchers.on(&indexed);
    let mut n = 0;
    for (k, profile) in config.profiles.iter().enumerate() {
        if !wanted(profile)
            || stored.hits.contains_key(&profile.name)
            || !profile.admits(&stored.offer)
        {
            continue;
        }
        let Some(m) = eval.evaluate(k) else {
            continue;
        };
        n += 1;
        stored.hits.insert(
            profile.name.clone(),
            Hit {
                score: m.score,
                words: m.words.into_iter().map(str::to_owned).collect(),
            },
        );
        stored.offer.matches.push(profile.name.clone());
        let entry = QueueEntry {
            offer: stored.offer.id.clone(),
            queued: now,
        };
        for channel in &profile.channels {
            w.enqueue(&profile.name, &channel.id, &entry)?;
        }
    }
    if n > 0 {
        w.put_offer(stored)?;
    }
    Ok(n)
}

/// Matches each profile seen for the first time against the offers first
/// seen within its `backfill`, once.
fn backfill(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    report: &mut PollReport,
) -> Result<(), StoreError> {
    let mut w = store.writer();
    for profile in &config.profiles {
        if store.profile_state(&profile.name)?.is_some() {
            continue;
        }
        let since = chrono::Duration::from_std(profile.backfill)
            .map(|d| now - d)
            .unwrap_or(now);
        let mut matched = 0;
        if since < now {
            let recent: Vec<String> = store
                .offers_newest()
                .take_while(|o| {
                    o.as_ref().is_err() || o.as_ref().is_ok_and(|o| o.offer.first_seen >= since)
                })
                .map(|o| o.map(|o| o.offer.id))
                .collect::<Result<_, _>>()?;
            for id in recent {
                // Through the writer: another new profile may have matched it already.
                let Some(mut stored) = w.offer(&id)? else {
                    continue;
                };
                if !stored.offer.sources.iter().any(|s| profile.reads(s))
                    || stored.offer.valid_through.is_some_and(|t| t < now)
                {
                    continue;
                }
                matched +=
                    match_and_queue(&mut w, &mut stored, config, |p| p.name == profile.name, now)?;
            }
            info!(profile = %profile.name, matched, "Backfilled a new profile.");
        }
        report.matches += matched;
        w.put_profile_state(&profile.name, &ProfileState { added: now })?;
    }
    w.commit()
}
