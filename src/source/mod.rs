//! Source adapters: each turns its wire format into [`Item`]s, in one
//! function per kind. Fetching is `fetch`'s job; storing is `store`'s.

pub mod feed;

use crate::config::{Source, SourceKind};
use crate::fetch::{Body, FetchError};
use crate::offer::Item;

/// Why a source yielded nothing this time, as one line.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Feed(#[from] feed::FeedError),
}

/// Parses a fetched body according to the source's kind.
pub fn parse(source: &Source, body: &Body) -> Result<Vec<Item>, SourceError> {
    let items = match source.kind {
        // A Mastodon tag or account is the instance's public RSS; posts have
        // no title, and the feed adapter derives one from the text.
        SourceKind::Feed | SourceKind::Mastodon => {
            feed::parse(&body.bytes, body.content_type.as_deref(), &body.url)?
        }
    };
    Ok(items)
}
