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
    pub salary: Option<Salary>,
}

impl Offer {
    /// A new offer from what its first source said.
    pub fn from_item(item: Item, id: String, first_seen: DateTime<Utc>, source: &str) -> Offer {
        Offer {
            id,
            title: item.title,
            company: item.company,
            location: item.location,
            url: item.url,
            published: item.published,
            first_seen,
            summary: item.summary,
            remote: item.remote,
            contract: item.contract,
            sources: vec![source.to_string()],
            matches: Vec::new(),
            tags: item.tags,
            valid_through: item.valid_through,
            salary: item.salary,
        }
    }
}

/// A pay range as the source gives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Salary {
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// ISO 4217 code, upper case (`EUR`).
    pub currency: Option<String>,
    /// `hour`, `day`, `week`, `month` or `year`.
    pub period: Option<String>,
}

/// The contract kinds veille knows, as stored in `Offer::contract`.
pub const CONTRACTS: [&str; 7] = [
    "cdi",
    "cdd",
    "internship",
    "apprenticeship",
    "freelance",
    "temporary",
    "other",
];

/// Recognises a contract kind in an employment type or a title, in English or
/// French (`stage`, `alternance`, `CDI`, `CDD`, `FULL_TIME`, `Intern`…).
/// `None` when nothing is recognised.
pub fn contract_kind(text: &str) -> Option<&'static str> {
    let folded = crate::matcher::fold(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let starts = |p: &str| words.iter().any(|x| x.starts_with(p));
    if has("alternance")
        || starts("apprenti")
        || starts("apprentice")
        || has("alternant")
        || has("alternante")
    {
        Some("apprenticeship")
    } else if has("stage") || has("stagiaire") || starts("intern") || has("trainee") {
        Some("internship")
    } else if has("cdi") || has("permanent") || (has("full") && has("time")) || has("fulltime") {
        Some("cdi")
    } else if has("cdd") || has("fixed") || starts("contract") {
        Some("cdd")
    } else if has("freelance") || has("freelancer") || has("independant") || has("contractor") {
        Some("freelance")
    } else if has("interim")
        || has("temporary")
        || has("temp")
        || has("seasonal")
        || has("saisonnier")
    {
        Some("temporary")
    } else {
        None
    }
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
    #[serde(default)]
    pub salary: Option<Salary>,
}

#[cfg(test)]
mod tests {
    use super::contract_kind;

    #[test]
    fn contract_kinds_in_both_languages() {
        for (text, kind) in [
            ("Développeur en alternance", Some("apprenticeship")),
            ("Contrat d'apprentissage", Some("apprenticeship")),
            ("Stage de fin d'études", Some("internship")),
            ("INTERN", Some("internship")),
            ("Internship", Some("internship")),
            ("CDI", Some("cdi")),
            ("FULL_TIME", Some("cdi")),
            ("CDD 6 mois", Some("cdd")),
            ("Freelance", Some("freelance")),
            ("TEMPORARY", Some("temporary")),
            ("Backend developer", None),
        ] {
            assert_eq!(contract_kind(text), kind, "{text}");
        }
    }
}
