//! The one `Offer` every source adapter produces, and its JSON shape (contract).
//!
//! Adapters produce [`Item`]s (what one source said about one offer); the store
//! turns a new item into an [`Offer`] (id, first seen, sources, matches).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one source says about one offer, already normalised: plain text,
/// absolute canonical URL, parsed dates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The source's own identity for the item (GUID, ATS id), if any.
    pub guid: Option<String>,
    pub title: String,
    pub company: Option<String>,
    pub location: Option<String>,
    /// Absolute, canonical URL (see `normalise::canonical_url`).
    pub url: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    pub remote: Option<bool>,
    pub contract: Option<String>,
    /// Categories / tags / departments, plain text.
    pub tags: Vec<String>,
    pub valid_through: Option<DateTime<Utc>>,
}

/// A stored offer: the contract's offer JSON, every key always present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub id: String,
    pub title: String,
    pub company: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub summary: Option<String>,
    pub remote: Option<bool>,
    pub contract: Option<String>,
    pub sources: Vec<String>,
    pub matches: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub valid_through: Option<DateTime<Utc>>,
}
