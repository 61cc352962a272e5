//! The sled store: offers, dedupe keys, source state, channel queues.
//!
//! Owns: what is persisted and how it is keyed, the dedupe rules of the
//! contract, retention, and the commit points. It does not fetch, match or
//! render.
//!
//! Everything lives in one sled tree under short key prefixes, so that one
//! source's poll (its offers, dedupe keys, queue entries and state) is written
//! with one atomic batch; [`Writer`] keeps an overlay of what the batch holds
//! so later lookups in the same cycle see it. Layout:
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `n:` | offer id | [`StoredOffer`] |
//! | `o:` | legacy offer id | [`StoredOffer`] (stores from older versions) |
//! | `t:` | first seen (ms, big-endian) + legacy id | empty: their newest-first index |
//! | `k:` | dedupe key | offer id (`k:t:` keys: JSON list of `[id, location]`) |
//! | `s:` | source name | [`SourceState`] |
//! | `q:` / `f:` | profile NUL channel NUL offer id | [`QueueEntry`]: queued / failed for good |
//! | `c:` | profile NUL channel | [`ChannelState`] |
//! | `p:` | profile name | [`ProfileState`] |
//!
//! An offer id starts with its first-seen time (milliseconds, 12 hex
//! digits), so `n:` keys are in first-seen order and double as the
//! newest-first index: one key less per offer. Offers stored by older
//! versions keep their 16-digit ids under `o:`, indexed by `t:`.
//!
//! Dedupe keys outlive retention: an offer forgotten after `retention` keeps
//! its keys, so a re-post of it is not announced again.
//!
//! Records are written in a compact binary form (a 0 byte, then postcard);
//! records written by older versions are JSON, which never starts with a 0
//! byte, and are still read (and rewritten in binary when next written).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::fetch::Validators;
use crate::matcher::fold;
use crate::offer::{Item, Offer};

/// sled's page cache; small, since a cycle reads little back (8 MiB: a
/// cold cycle of 20,000 offers as fast as with 16, 7 MB less resident).
const CACHE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the state directory {} is in use by another veille process{}; stop it, or wait for it to finish",
        .dir.display(),
        .pid.as_deref().map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Locked { dir: PathBuf, pid: Option<String> },
    #[error("cannot use the state directory {}: {source}", .dir.display())]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("the store failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored record is unreadable ({0}); the store may come from a newer veille")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An offer and, per profile that matched it, why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredOffer {
    pub offer: Offer,
    #[serde(default)]
    pub hits: BTreeMap<String, Hit>,
}

/// Why a profile matched an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub score: f32,
    pub words: Vec<String>,
}

/// What veille knows of a source between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceState {
    #[serde(default)]
    pub validators: Validators,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Start of the current run of failures.
    pub failing_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Offers stored that were seen on this source.
    #[serde(default)]
    pub offers: u64,
    /// Items in the last body parsed (not counting 304s).
    #[serde(default)]
    pub last_items: Option<usize>,
    /// The URL the validators belong to: they are dropped if it changes.
    #[serde(default)]
    pub url: Option<String>,
    /// A Bluesky handle's DID, resolved once.
    #[serde(default)]
    pub did: Option<String>,
    /// Successful fetches in a row whose body yielded no offer (a page whose
    /// selectors broke); 304s do not count.
    #[serde(default)]
    pub empty_fetches: u32,
    /// Not before this: the server's `Retry-After`.
    #[serde(default)]
    pub retry_after: Option<DateTime<Utc>>,
}

impl SourceState {
    /// Records a successful fetch (a body or a 304): the failure run ends.
    pub fn succeeded(&mut self, now: DateTime<Utc>) {
        self.last_success = Some(now);
        self.consecutive_failures = 0;
        self.failing_since = None;
        self.last_error = None;
        self.retry_after = None;
    }
}

/// One match waiting for (or refused by) a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub offer: String,
    pub queued: DateTime<Utc>,
}

/// Delivery bookkeeping of one channel.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChannelState {
    pub last_delivery: Option<DateTime<Utc>>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    /// The last time the schedule fired (delivered or found nothing).
    pub last_run: Option<DateTime<Utc>>,
    /// The receiver's `Retry-After` (429/503): no retry before this.
    #[serde(default)]
    pub retry_after: Option<DateTime<Utc>>,
}

/// When a profile was first seen, for `backfill`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProfileState {
    pub added: DateTime<Utc>,
}

/// The outcome of storing one item.
#[derive(Debug)]
pub enum Ingest {
    /// Never seen: a new offer, its keys written; the caller writes the
    /// offer itself once matched ([`Writer::put_offer`]).
    New(Box<StoredOffer>),
    /// Already known from another source; this source was added to it.
    Merged(String),
    /// Already known from this source.
    Seen(String),
}

/// The open store, holding the state directory's lock.
pub struct Store {
    db: sled::Db,
    _lock: File,
}

impl Store {
    /// Opens (creating) the store in `dir`; fails clearly if another process
    /// holds it.
    pub fn open(dir: &Path) -> Result<Store> {
        let io = |source| StoreError::Dir {
            dir: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("veille.lock"))
            .map_err(io)?;
        match fs4::fs_std::FileExt::try_lock_exclusive(&lock) {
            Ok(true) => {}
            Ok(false) => {
                let mut pid = String::new();
                let _ = lock.read_to_string(&mut pid);
                let pid = Some(pid.trim().to_string()).filter(|p| !p.is_empty());
                return Err(StoreError::Locked {
                    dir: dir.to_path_buf(),
                    pid,
                });
            }
            Err(e) => return Err(io(e)),
        }
        lock.set_len(0).map_err(io)?;
        lock.rewind().map_err(io)?;
        write!(lock, "{}", std::process::id()).map_err(io)?;
        let db = sled::Config::new()
            .path(dir.join("store"))
            .cache_capacity(CACHE_BYTES)
            .mode(sled::Mode::HighThroughput)
            // No background flushes: every command that writes flushes
            // before it reports ([`Store::flush`]), and a crash between
            // commits loses whole batches only.
            .flush_every_ms(None)
            .open()?;
        Ok(Store { db, _lock: lock })
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// Starts a batch of writes.
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            store: self,
            overlay: HashMap::new(),
        }
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.db.get(key)? {
            Some(v) => Ok(Some(decode(&v)?)),
            None => Ok(None),
        }
    }

    pub fn offer(&self, id: &str) -> Result<Option<StoredOffer>> {
        self.get(&offer_key(id))
    }

    pub fn source_state(&self, name: &str) -> Result<SourceState> {
        Ok(self.get(&key2(b"s:", name))?.unwrap_or_default())
    }

    pub fn channel_state(&self, profile: &str, channel: &str) -> Result<ChannelState> {
        Ok(self
            .get(&chan_key(b"c:", profile, channel))?
            .unwrap_or_default())
    }

    pub fn profile_state(&self, profile: &str) -> Result<Option<ProfileState>> {
        self.get(&key2(b"p:", profile))
    }

    /// Stored offers, newest first seen first.
    pub fn offers_newest(&self) -> impl Iterator<Item = Result<StoredOffer>> + '_ {
        // Current offers (`n:`, their key is their time), merged with any
        // legacy ones (`t:` index, then `o:`).
        let mut current = self
            .db
            .scan_prefix(b"n:")
            .rev()
            .map(|kv| -> Result<(u64, StoredOffer)> {
                let (k, v) = kv?;
                Ok((id_millis(&k[2..]).unwrap_or(0), decode(&v)?))
            })
            .peekable();
        let mut legacy = self
            .db
            .scan_prefix(b"t:")
            .rev()
            .map(|kv| -> Result<(u64, String)> {
                let (k, _) = kv?;
                let ms = k
                    .get(2..10)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map_or(0, u64::from_be_bytes);
                Ok((ms, String::from_utf8_lossy(&k[10..]).into_owned()))
            })
            .peekable();
        std::iter::from_fn(move || {
            loop {
                let take_current = match (current.peek(), legacy.peek()) {
                    (None, None) => return None,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (Some(Err(_)), _) => true,
                    (_, Some(Err(_))) => false,
                    (Some(Ok((a, _))), Some(Ok((b, _)))) => a >= b,
                };
                if take_current {
                    return current.next().map(|r| r.map(|(_, o)| o));
                }
                match legacy.next()? {
                    Err(e) => return Some(Err(e)),
                    Ok((_, id)) => match self.get(&key2(b"o:", &id)) {
                        Err(e) => return Some(Err(e)),
                        Ok(Some(stored)) => return Some(Ok(stored)),
                        Ok(None) => continue,
                    },
                }
            }
        })
    }

    /// Entries waiting for a channel, oldest first.
    pub fn queued(&self, profile: &str, channel: &str) -> Result<Vec<QueueEntry>> {
        self.entries(b"q:", profile, channel)
    }

    /// Entries the channel refused for good.
    pub fn failed(&self, profile: &str, channel: &str) -> Result<Vec<QueueEntry>> {
        self.entries(b"f:", profile, channel)
    }

    fn entries(&self, prefix: &[u8], profile: &str, channel: &str) -> Result<Vec<QueueEntry>> {
        let mut p = chan_key(prefix, profile, channel);
        p.push(0);
        let mut out: Vec<QueueEntry> = Vec::new();
        for kv in self.db.scan_prefix(p) {
            let (_, v) = kv?;
            out.push(decode(&v)?);
        }
        out.sort_by_key(|e| e.queued);
        Ok(out)
    }

    /// Counts entries under a channel without decoding them.
    pub fn count(&self, failed: bool, profile: &str, channel: &str) -> usize {
        let mut p = chan_key(if failed { b"f:" } else { b"q:" }, profile, channel);
        p.push(0);
        self.db.scan_prefix(p).count()
    }

    /// Forgets offers first seen before `cutoff`; their dedupe keys stay.
    /// Returns how many were forgotten.
    pub fn forget_before(&self, cutoff: DateTime<Utc>) -> Result<usize> {
        let mut w = self.writer();
        let mut n = 0;
        let forget = |w: &mut Writer<'_>, stored: Option<StoredOffer>| -> Result<()> {
            for source in stored.iter().flat_map(|s| &s.offer.sources) {
                let mut st: SourceState = w.get(&key2(b"s:", source))?.unwrap_or_default();
                st.offers = st.offers.saturating_sub(1);
                w.put(&key2(b"s:", source), &st)?;
            }
            Ok(())
        };
        let end = key2(b"n:", &format!("{:012x}", millis(cutoff)));
        for kv in self.db.range(b"n:".to_vec()..end) {
            let (k, v) = kv?;
            forget(&mut w, Some(decode(&v)?))?;
            w.remove(&k);
            n += 1;
        }
        let mut end = b"t:".to_vec();
        end.extend_from_slice(&millis(cutoff).to_be_bytes());
        for kv in self.db.range(b"t:".to_vec()..end) {
            let (k, _) = kv?;
            let id = String::from_utf8_lossy(&k[10..]).into_owned();
            forget(&mut w, self.get(&key2(b"o:", &id))?)?;
            w.remove(&key2(b"o:", &id));
            w.remove(&k);
            n += 1;
        }
        w.commit()?;
        Ok(n)
    }
}

/// A batch of writes with a read-your-writes overlay, committed atomically:
/// the overlay is the batch (`None` removes the key).
pub struct Writer<'s> {
    store: &'s Store,
    overlay: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

/// A value read through a [`Writer`]: from its overlay or from sled.
enum Raw<'a> {
    Pending(&'a [u8]),
    Stored(sled::IVec),
}

impl Deref for Raw<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Raw::Pending(v) => v,
            Raw::Stored(v) => v,
        }
    }
}

impl Writer<'_> {
    fn raw(&self, key: &[u8]) -> Result<Option<Raw<'_>>> {
        if let Some(v) = self.overlay.get(key) {
            return Ok(v.as_deref().map(Raw::Pending));
        }
        Ok(self.store.db.get(key)?.map(Raw::Stored))
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.raw(key)? {
            Some(v) => Ok(Some(decode(&v)?)),
            None => Ok(None),
        }
    }

    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.overlay.insert(key, Some(value));
    }

    fn put<T: Serialize>(&mut self, key: &[u8], value: &T) -> Result<()> {
        let bytes = encode(value)?;
        self.put_raw(key.to_vec(), bytes);
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) {
        self.overlay.insert(key.to_vec(), None);
    }

    /// Applies the batch atomically. Durable after [`Store::flush`].
    pub fn commit(self) -> Result<()> {
        if self.overlay.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (k, v) in self.overlay {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        self.store.db.apply_batch(batch)?;
        Ok(())
    }

    pub fn offer(&self, id: &str) -> Result<Option<StoredOffer>> {
        self.get(&offer_key(id))
    }

    pub fn put_offer(&mut self, stored: &StoredOffer) -> Result<()> {
        self.put(&offer_key(&stored.offer.id), stored)
    }

    pub fn source_state(&self, name: &str) -> Result<SourceState> {
        Ok(self.get(&key2(b"s:", name))?.unwrap_or_default())
    }

    pub fn put_source_state(&mut self, name: &str, state: &SourceState) -> Result<()> {
        self.put(&key2(b"s:", name), state)
    }

    pub fn put_channel_state(
        &mut self,
        profile: &str,
        channel: &str,
        state: &ChannelState,
    ) -> Result<()> {
        self.put(&chan_key(b"c:", profile, channel), state)
    }

    pub fn put_profile_state(&mut self, profile: &str, state: &ProfileState) -> Result<()> {
        self.put(&key2(b"p:", profile), state)
    }

    /// Queues a match for a channel (idempotent).
    pub fn enqueue(&mut self, profile: &str, channel: &str, entry: &QueueEntry) -> Result<()> {
        self.put(&entry_key(b"q:", profile, channel, &entry.offer), entry)
    }

    /// Takes a delivered entry off the queue.
    pub fn dequeue(&mut self, profile: &str, channel: &str, offer: &str) {
        self.remove(&entry_key(b"q:", profile, channel, offer));
    }

    /// Moves an entry to the channel's failed list.
    pub fn fail(&mut self, profile: &str, channel: &str, entry: &QueueEntry) -> Result<()> {
        self.remove(&entry_key(b"q:", profile, channel, &entry.offer));
        self.put(&entry_key(b"f:", profile, channel, &entry.offer), entry)
    }

    /// Stores `item` as seen on `source` (the caller counts `New` and
    /// `Merged` in the source's offers), applying the contract's dedupe
    /// rules: within a source by GUID, else canonical URL; across sources by
    /// canonical URL, or by normalised title + company (both known) when the
    /// locations do not contradict.
    pub fn ingest(&mut self, source: &str, item: Item, now: DateTime<Utc>) -> Result<Ingest> {
        let own = own_key(source, &item);
        if let Some(id) = self.raw(&own)? {
            let id = String::from_utf8_lossy(&id).into_owned();
            // The item may also carry a URL seen elsewhere since; nothing to do.
            return Ok(Ingest::Seen(id));
        }
        let url_key = item.url.as_deref().map(|u| key2(b"k:u:", u));
        let title_key = title_company_key(&item);
        let location = item.location.as_deref().map(dedupe_text);

        let mut existing: Option<String> = None;
        if let Some(k) = &url_key
            && let Some(id) = self.raw(k)?
        {
            existing = Some(String::from_utf8_lossy(&id).into_owned());
        }
        let mut title_list: Vec<(String, Option<String>)> = match &title_key {
            Some(k) => self.get(k)?.unwrap_or_default(),
            None => Vec::new(),
        };
        if existing.is_none() {
            existing = title_list
                .iter()
                .find(|(_, loc)| !contradicts(loc.as_deref(), location.as_deref()))
                .map(|(id, _)| id.clone());
        }

        if let Some(id) = existing {
            self.put_raw(own, id.as_bytes().to_vec());
            if let Some(k) = url_key
                && self.raw(&k)?.is_none()
            {
                self.put_raw(k, id.as_bytes().to_vec());
            }
            let Some(mut stored) = self.offer(&id)? else {
                // Forgotten by retention: still not new.
                return Ok(Ingest::Seen(id));
            };
            if stored.offer.sources.iter().any(|s| s == source) {
                return Ok(Ingest::Seen(id));
            }
            stored.offer.sources.push(source.to_string());
            fill_gaps(&mut stored.offer, &item);
            self.put_offer(&stored)?;
            return Ok(Ingest::Merged(id));
        }

        let id = offer_id(now, &own);
        self.put_raw(own, id.as_bytes().to_vec());
        if let Some(k) = url_key {
            self.put_raw(k, id.as_bytes().to_vec());
        }
        if let Some(k) = title_key {
            title_list.push((id.clone(), location));
            self.put(&k, &title_list)?;
        }
        let offer = Offer::from_item(item, id, now, source);
        let stored = StoredOffer {
            offer,
            hits: BTreeMap::new(),
        };
        Ok(Ingest::New(Box::new(stored)))
    }
}

/// A later source may know what the first one did not.
fn fill_gaps(offer: &mut Offer, item: &Item) {
    if offer.company.is_none() {
        offer.company.clone_from(&item.company);
    }
    if offer.location.is_none() {
        offer.location.clone_from(&item.location);
    }
    if offer.url.is_none() {
        offer.url.clone_from(&item.url);
    }
    if offer.summary.is_none() {
        offer.summary.clone_from(&item.summary);
    }
    if offer.remote.is_none() {
        offer.remote = item.remote;
    }
    if offer.contract.is_none() {
        offer.contract.clone_from(&item.contract);
    }
}

/// The key of an item's identity within its source.
fn own_key(source: &str, item: &Item) -> Vec<u8> {
    let (kind, ident) = match (&item.guid, &item.url) {
        (Some(g), _) if !g.trim().is_empty() => ("g", g.trim().to_string()),
        (_, Some(u)) => ("u", u.clone()),
        _ => (
            "h",
            format!(
                "{}\u{1f}{}",
                dedupe_text(&item.title),
                item.summary.as_deref().map(dedupe_text).unwrap_or_default()
            ),
        ),
    };
    let mut k = format!("k:{kind}:{source}").into_bytes();
    k.push(0);
    k.extend_from_slice(ident.as_bytes());
    k
}

fn title_company_key(item: &Item) -> Option<Vec<u8>> {
    let company = item
        .company
        .as_deref()
        .map(dedupe_text)
        .filter(|c| !c.is_empty())?;
    let title = dedupe_text(&item.title);
    if title.is_empty() {
        return None;
    }
    let mut k = b"k:t:".to_vec();
    k.extend_from_slice(title.as_bytes());
    k.push(0);
    k.extend_from_slice(company.as_bytes());
    Some(k)
}

/// Locations contradict when both are known and neither contains the other.
fn contradicts(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => !(a.contains(b) || b.contains(a)),
        _ => false,
    }
}

/// The contract's normalisation for dedupe: lower-case, accents removed,
/// punctuation turned to spaces, spaces collapsed, word order kept.
pub fn dedupe_text(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    for word in folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A short id: the first-seen time (ms, 12 hex digits, so that ids sort by
/// it), then 16 hex digits derived from the offer's first identity.
fn offer_id(first_seen: DateTime<Utc>, own: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(own);
    let mut id = String::with_capacity(ID_LEN);
    let _ = write!(id, "{:012x}", millis(first_seen));
    for b in &digest[..8] {
        let _ = write!(id, "{b:02x}");
    }
    id
}

/// Length of a current offer id; legacy ids have 16 digits.
const ID_LEN: usize = 28;

/// The key of an offer's record: `n:` for current ids, `o:` for legacy ones.
fn offer_key(id: &str) -> Vec<u8> {
    key2(if id.len() == ID_LEN { b"n:" } else { b"o:" }, id)
}

/// The first-seen time at the start of a current id.
fn id_millis(id: &[u8]) -> Option<u64> {
    let hex = std::str::from_utf8(id.get(..12)?).ok()?;
    u64::from_str_radix(hex, 16).ok()
}

fn millis(t: DateTime<Utc>) -> u64 {
    t.timestamp_millis().max(0) as u64
}

fn key2(prefix: &[u8], rest: &str) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(rest.as_bytes());
    k
}

fn chan_key(prefix: &[u8], profile: &str, channel: &str) -> Vec<u8> {
    let mut k = key2(prefix, profile);
    k.push(0);
    k.extend_from_slice(channel.as_bytes());
    k
}

fn entry_key(prefix: &[u8], profile: &str, channel: &str, offer: &str) -> Vec<u8> {
    let mut k = chan_key(prefix, profile, channel);
    k.push(0);
    k.extend_from_slice(offer.as_bytes());
    k
}

/// Marks a binary record; JSON (older records) never starts with it.
const BINARY: u8 = 0;

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_extend(value, vec![BINARY]).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    match bytes.split_first() {
        Some((&BINARY, rest)) => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(e.to_string()))
        }
        _ => serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(title: &str, url: Option<&str>) -> Item {
        Item {
            title: title.into(),
            url: url.map(str::to_string),
            ..Item::default()
        }
    }

    #[test]
    fn an_offer_is_new_once_per_source_and_merged_across_sources() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let mut w = store.writer();
        let Ingest::New(a) = w
            .ingest("a", item("Dev", Some("https://x.example/1")), now)
            .unwrap()
        else {
            panic!("not new");
        };
        w.put_offer(&a).unwrap();
        assert!(matches!(
            w.ingest("a", item("Dev", Some("https://x.example/1")), now)
                .unwrap(),
            Ingest::Seen(_)
        ));
        assert!(matches!(
            w.ingest("b", item("Other", Some("https://x.example/1")), now)
                .unwrap(),
            Ingest::Merged(_)
        ));
        w.commit().unwrap();
        let all: Vec<_> = store.offers_newest().collect::<Result<_>>().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].offer.sources, ["a", "b"]);
    }

    #[test]
    fn title_and_company_merge_unless_locations_contradict() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let mk = |company: &str, loc: Option<&str>, url: &str| Item {
            title: "Développeur Rust (H/F)".into(),
            company: Some(company.into()),
            location: loc.map(str::to_string),
            url: Some(url.into()),
            ..Item::default()
        };
        let mut w = store.writer();
        let new = |w: &mut Writer<'_>, source: &str, item: Item| match w
            .ingest(source, item, now)
            .unwrap()
        {
            Ingest::New(stored) => {
                w.put_offer(&stored).unwrap();
                true
            }
            _ => false,
        };
        assert!(new(
            &mut w,
            "a",
            mk("Ferris", Some("Rouen"), "https://a.example/1")
        ));
        // Same title with other accents/punctuation, location contains the other.
        let mut other = mk("FERRIS", Some("Rouen, France"), "https://b.example/9");
        other.title = "developpeur rust h f".into();
        assert!(matches!(
            w.ingest("b", other, now).unwrap(),
            Ingest::Merged(_)
        ));
        assert!(new(
            &mut w,
            "c",
            mk("Ferris", Some("Lyon"), "https://c.example/2")
        ));
        assert!(matches!(
            w.ingest("d", mk("Ferris", None, "https://d.example/3"), now)
                .unwrap(),
            Ingest::Merged(_)
        ));
        w.commit().unwrap();
    }

    #[test]
    fn forgotten_offers_are_not_announced_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let then = Utc::now() - chrono::Duration::days(200);
        let mut w = store.writer();
        let Ingest::New(old) = w
            .ingest("a", item("Old", Some("https://x.example/old")), then)
            .unwrap()
        else {
            panic!("not new");
        };
        w.put_offer(&old).unwrap();
        w.commit().unwrap();
        assert_eq!(
            store
                .forget_before(Utc::now() - chrono::Duration::days(180))
                .unwrap(),
            1
        );
        assert_eq!(store.offers_newest().count(), 0);
        let mut w = store.writer();
        assert!(matches!(
            w.ingest("b", item("Old", Some("https://x.example/old")), Utc::now())
                .unwrap(),
            Ingest::Seen(_)
        ));
    }

    #[test]
    fn records_round_trip_in_binary() {
        let now = Utc::now();
        let mut stored = StoredOffer {
            offer: Offer::from_item(
                Item {
                    guid: Some("g".into()),
                    title: "Dev".into(),
                    company: Some("Ferris".into()),
                    location: Some("Rouen".into()),
                    url: Some("https://x.example/1".into()),
                    published: Some(now),
                    summary: Some("Rust".into()),
                    remote: Some(true),
                    contract: Some("cdi".into()),
                    tags: vec!["rust".into()],
                    valid_through: Some(now),
                    salary: Some(crate::offer::Salary {
                        min: Some(1.0),
                        max: None,
                        currency: Some("EUR".into()),
                        period: Some("year".into()),
                    }),
                },
                "id".into(),
                now,
                "a",
            ),
            hits: BTreeMap::new(),
        };
        stored.hits.insert(
            "alice".into(),
            Hit {
                score: 1.5,
                words: vec!["rust".into()],
            },
        );
        let back: StoredOffer = decode(&encode(&stored).unwrap()).unwrap();
        assert_eq!(back.offer, stored.offer);
        assert_eq!(back.hits, stored.hits);
        let state = SourceState {
            validators: Validators {
                etag: Some("\"v1\"".into()),
                last_modified: None,
            },
            last_poll: Some(now),
            last_error: Some("x".into()),
            offers: 3,
            last_items: Some(2),
            url: Some("https://x.example/feed".into()),
            ..SourceState::default()
        };
        let back: SourceState = decode(&encode(&state).unwrap()).unwrap();
        assert_eq!(back.validators.etag, state.validators.etag);
        assert_eq!((back.offers, back.last_items), (3, Some(2)));
        assert_eq!(back.last_poll, state.last_poll);
    }

    #[test]
    fn legacy_json_offers_are_read_listed_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let now = Utc::now();
        let old = now - chrono::Duration::days(10);
        // As an older version wrote it: JSON under `o:`, indexed by `t:`.
        let legacy = StoredOffer {
            offer: Offer::from_item(item("Legacy", None), "0123456789abcdef".into(), old, "a"),
            hits: BTreeMap::new(),
        };
        let db = &store.db;
        db.insert(
            key2(b"o:", "0123456789abcdef"),
            serde_json::to_vec(&legacy).unwrap(),
        )
        .unwrap();
        let mut t = b"t:".to_vec();
        t.extend_from_slice(&millis(old).to_be_bytes());
        t.extend_from_slice(b"0123456789abcdef");
        db.insert(t, Vec::new()).unwrap();
        db.insert(key2(b"s:", "a"), &br#"{"offers":1,"last_poll":null,"last_success":null,"last_error":null,"failing_since":null}"#[..])
            .unwrap();

        let mut w = store.writer();
        for (title, at) in [
            ("Newer", old + chrono::Duration::days(1)),
            ("Older", old - chrono::Duration::days(1)),
        ] {
            let Ingest::New(o) = w
                .ingest(
                    "a",
                    item(title, Some(&format!("https://x.example/{title}"))),
                    at,
                )
                .unwrap()
            else {
                panic!("not new");
            };
            assert_eq!(o.offer.id.len(), ID_LEN);
            w.put_offer(&o).unwrap();
        }
        w.commit().unwrap();
        assert_eq!(
            store
                .offer("0123456789abcdef")
                .unwrap()
                .unwrap()
                .offer
                .title,
            "Legacy"
        );
        let titles: Vec<String> = store
            .offers_newest()
            .map(|o| o.unwrap().offer.title)
            .collect();
        assert_eq!(titles, ["Newer", "Legacy", "Older"]);
        assert_eq!(
            store
                .forget_before(old + chrono::Duration::hours(1))
                .unwrap(),
            2
        );
        let titles: Vec<String> = store
            .offers_newest()
            .map(|o| o.unwrap().offer.title)
            .collect();
        assert_eq!(titles, ["Newer"]);
        assert_eq!(store.source_state("a").unwrap().offers, 0);
    }

    #[test]
    fn a_second_process_gets_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        // flock is per open file description, so a second open in-process conflicts too.
        let err = Store::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("in use by another veille process"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
    }

    #[test]
    fn dedupe_text_normalises() {
        assert_eq!(
            dedupe_text("  Développeur·se  C++ / Back-end! "),
            "developpeur se c back end"
        );
    }
}
