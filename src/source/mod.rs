//! Source adapters: each kind turns its wire format into [`Item`]s, in one
//! module per kind; [`fetch`] runs the requests a kind needs (robots.txt for
//! pages, a Bluesky handle's resolution, SmartRecruiters' pages) and hands
//! the bodies to its adapter. HTTP itself is `fetch`'s job; storing is
//! `store`'s.

pub mod ashby;
pub mod ats;
pub mod feed;
pub mod greenhouse;
pub mod jsonld;
pub mod lever;
pub mod page;
pub mod personio;
pub mod recruitee;
pub mod smartrecruiters;
pub mod workable;

use url::Url;

use crate::config::{Source, SourceKind};
use crate::fetch::{Body, FetchError, Fetched, Fetcher, Validators};
use crate::offer::Item;
use crate::store::SourceState;

/// Most pages followed for one paged ATS source.
pub const MAX_PAGES: usize = 50;
/// Where a Bluesky handle is resolved to its DID.
pub const BLUESKY_RESOLVER: &str =
    "https://public.api.bsky.app/xrpc/com.atproto.identity.resolveHandle";

/// Why a source yielded nothing this time, as one line.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Feed(#[from] feed::FeedError),
    #[error(transparent)]
    Ats(#[from] ats::AtsError),
    #[error("cannot resolve the Bluesky handle `{0}`: {1}")]
    Handle(String, String),
    #[error("more than {MAX_PAGES} pages; stopped")]
    TooManyPages,
}

/// What a successful fetch of a source gave.
#[derive(Debug, Default)]
pub struct Yield {
    pub items: Vec<Item>,
    pub validators: Validators,
    /// The URL fetched (after a handle's resolution).
    pub url: String,
    /// A Bluesky handle's DID, to cache.
    pub did: Option<String>,
    /// For `test-source`: what was used and how selectors fared.
    pub notes: Vec<String>,
}

/// Fetches and parses one source. `state` gives the validators (used only
/// when they belong to the same URL) and a cached DID. `Ok(None)`: not
/// modified.
pub async fn fetch(
    fetcher: &Fetcher,
    source: &Source,
    state: &SourceState,
) -> Result<Option<Yield>, SourceError> {
    let mut url = source.url.clone();
    let mut did = None;
    if let SourceKind::Bluesky {
        handle: Some(handle),
    } = &source.kind
    {
        let resolved = match &state.did {
            Some(d) => d.clone(),
            None => resolve_handle(fetcher, handle).await?,
        };
        url = Url::parse(&format!("https://bsky.app/profile/{resolved}/rss"))
            .map_err(|e| SourceError::Handle(handle.clone(), e.to_string()))?;
        did = Some(resolved);
    }
    if source.kind.honours_robots() {
        fetcher.robots_allow(&url).await?;
    }
    let validators = (state.url.as_deref() == Some(url.as_str())).then_some(&state.validators);
    let body = match fetcher.get(&url, validators).await? {
        Fetched::NotModified => return Ok(None),
        Fetched::Body(b) => b,
    };
    let mut out = Yield {
        validators: body.validators.clone(),
        url: url.to_string(),
        did,
        ..Yield::default()
    };
    let company = source.company.as_deref();
    match &source.kind {
        // A Mastodon tag or account, and a Bluesky profile, are RSS; posts
        // have no title, and the feed adapter derives one from the text.
        SourceKind::Feed | SourceKind::Mastodon | SourceKind::Bluesky { .. } => {
            out.items = feed::parse(&body.bytes, body.content_type.as_deref(), &body.url)?;
        }
        SourceKind::Page(select) | SourceKind::Careers(select) => {
            let r = page::parse(
                &body.bytes,
                body.content_type.as_deref(),
                &body.url,
                select.as_ref(),
                company,
            );
            out.notes.push(format!(
                "JSON-LD: {} block{}, {} JobPosting{}{}",
                r.jsonld.blocks,
                if r.jsonld.blocks == 1 { "" } else { "s" },
                r.jsonld.items.len(),
                if r.jsonld.items.len() == 1 { "" } else { "s" },
                if r.jsonld.broken.is_empty() {
                    String::new()
                } else {
                    format!("; skipped broken: {}", r.jsonld.broken.join("; "))
                }
            ));
            for b in &r.jsonld.broken {
                tracing::warn!(source = %source.name, block = %b, "Skipped a broken JSON-LD block.");
            }
            for (key, n) in &r.counts {
                out.notes.push(format!(
                    "select.{key}: {n} element{} matched",
                    if *n == 1 { "" } else { "s" }
                ));
            }
            out.items = r.items;
        }
        SourceKind::Ats { ats, detected } => {
            if *detected {
                out.notes.push(format!(
                    "the careers URL is a {} board: using its API {}",
                    ats.key(),
                    source.url
                ));
            }
            let name = company.unwrap_or(&source.name);
            let mut page = ats.parse(&body.bytes, &body.url, name)?;
            let mut pages = 1;
            while let Some(next) = page.next.take() {
                pages += 1;
                if pages > MAX_PAGES {
                    return Err(SourceError::TooManyPages);
                }
                let Fetched::Body(b) = fetcher.get(&next, None).await? else {
                    break;
                };
                let more = ats.parse(&b.bytes, &b.url, name)?;
                out.items.extend(std::mem::take(&mut page.items));
                page = more;
            }
            out.items.extend(page.items);
            if pages > 1 {
                out.notes.push(format!("{pages} pages followed"));
            }
        }
    }
    // Every kind: a contract the source did not state may be in the title
    // ("Stage", "alternance", "CDI").
    for item in &mut out.items {
        if item.contract.is_none() {
            item.contract = crate::offer::contract_kind(&item.title).map(str::to_string);
        }
    }
    Ok(Some(out))
}

async fn resolve_handle(fetcher: &Fetcher, handle: &str) -> Result<String, SourceError> {
    let err = |m: String| SourceError::Handle(handle.to_string(), m);
    let mut url = Url::parse(BLUESKY_RESOLVER).map_err(|e| err(e.to_string()))?;
    url.query_pairs_mut().append_pair("handle", handle);
    let Fetched::Body(Body { bytes, .. }) = fetcher
        .get(&url, None)
        .await
        .map_err(|e| err(e.to_string()))?
    else {
        return Err(err("unexpected 304".into()));
    };
    #[derive(serde::Deserialize)]
    struct Resolved {
        did: String,
    }
    let r: Resolved = serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
    if !r.did.starts_with("did:") || r.did.contains('/') {
        return Err(err(format!("`{}` is not a DID", r.did)));
    }
    Ok(r.did)
}
