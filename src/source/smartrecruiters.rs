//! SmartRecruiters posting API: `GET
//! https://api.smartrecruiters.com/v1/companies/{id}/postings?limit=100&offset=N`,
//! one page of `{"offset", "limit", "totalFound", "content": [...]}` in, its
//! [`Item`]s and the next page's URL out.
//!
//! Owns: the endpoint, the field mapping (the list has no description, so
//! items carry no summary) and paging: while `offset + len(content) <
//! totalFound`, the next URL is the current one with `offset` moved on.
//! Does not own: fetching the pages and capping how many are followed (the
//! caller), dispatch, errors and shared field helpers (`ats`).

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::ats::{
    self, Ats, AtsError, Page, add_tag, company_or, flag, id, join_location, raw, text,
};
use crate::normalise::canonical_url;
use crate::offer::{Item, contract_kind};

const ATS: Ats = Ats::SmartRecruiters;

/// The first page of the company's postings, for a validated token.
pub(crate) fn endpoint(token: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!(
        "https://api.smartrecruiters.com/v1/companies/{token}/postings?limit=100&offset=0"
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Postings {
    content: Vec<Value>,
    // `Value`s so that an odd type stops the paging, not the page.
    #[serde(default)]
    offset: Value,
    #[serde(default)]
    total_found: Value,
}

/// One page of postings fetched from `url`, and the URL of the next page.
pub(crate) fn parse(body: &[u8], url: &Url, company: &str) -> Result<Page, AtsError> {
    let postings: Postings = ats::from_json(body, ATS, "an object with a `content` array")?;
    let company_id = company_in_path(url);
    let items = postings
        .content
        .iter()
        .filter_map(|posting| item(posting, company_id.as_deref(), company))
        .collect();
    Ok(Page {
        items,
        next: next_page(url, &postings),
    })
}

fn item(posting: &Value, company_id: Option<&str>, company: &str) -> Option<Item> {
    let title = text(posting, &["name"])?;
    let guid = id(posting, &["id"]);
    let mut tags = Vec::new();
    add_tag(&mut tags, text(posting, &["department", "label"]));
    let location = text(posting, &["location", "fullLocation"]).or_else(|| {
        let part = |key: &str| text(posting, &["location", key]);
        // The country is an ISO code (`de`).
        join_location([
            part("city"),
            part("region"),
            part("country").map(|c| c.to_uppercase()),
        ])
    });
    // The public job page: jobs.smartrecruiters.com/{company id}/{posting id}.
    let url = match (
        id(posting, &["company", "identifier"])
            .as_deref()
            .or(company_id),
        guid.as_deref(),
    ) {
        (Some(company_id), Some(posting_id)) => posting_url(company_id, posting_id),
        _ => None,
    };
    // The label (`Full-time`, `Intern`) first, then the id (`permanent`),
    // then the title.
    let employment = |key: &str| raw(posting, &["typeOfEmployment", key]).and_then(contract_kind);
    let contract = employment("label")
        .or_else(|| employment("id"))
        .or_else(|| contract_kind(&title))
        .map(str::to_owned);
    Some(Item {
        guid,
        url,
        company: company_or(text(posting, &["company", "name"]), company),
        location,
        published: raw(posting, &["releasedDate"]).and_then(ats::date),
        summary: None,
        remote: flag(posting, &["location", "remote"]),
        contract,
        tags,
        title,
        ..Item::default()
    })
}

/// The posting's public page; `None` when an id would not stay one path
/// segment.
fn posting_url(company_id: &str, posting_id: &str) -> Option<String> {
    let safe = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if !safe(company_id) || !safe(posting_id) || company_id.chars().all(|c| c == '.') {
        return None;
    }
    Url::parse(&format!(
        "https://jobs.smartrecruiters.com/{company_id}/{posting_id}"
    ))
    .ok()
    .map(|u| canonical_url(&u))
}

/// The `{id}` in `…/companies/{id}/postings`, for postings without a
/// `company.identifier`.
fn company_in_path(url: &Url) -> Option<String> {
    let mut segments = url.path_segments()?;
    segments.find(|s| *s == "companies")?;
    segments.next().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The next page's URL: `url` with `offset` set past this page, while the
/// total says there is more. An empty page ends the paging whatever the
/// total says, so that a lying total cannot loop.
fn next_page(url: &Url, postings: &Postings) -> Option<Url> {
    let count = u64::try_from(postings.content.len()).ok()?;
    let total = postings.total_found.as_u64()?;
    if count == 0 {
        return None;
    }
    // The body's offset is authoritative; the URL's is the fallback.
    let offset = postings.offset.as_u64().or_else(|| {
        url.query_pairs()
            .find(|(k, _)| k == "offset")
            .and_then(|(_, v)| v.parse().ok())
    })?;
    let next = offset.checked_add(count)?;
    if next >= total {
        return None;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "offset")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut next_url = url.clone();
    next_url
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("offset", &next.to_string());
    Some(next_url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ats::tests::{at, fixture, url};

    #[test]
    fn pages_until_the_total() {
        let first =
            url("https://api.smartrecruiters.com/v1/companies/Acme/postings?limit=2&offset=0");
        let page = Ats::SmartRecruiters
            .parse(
                &fixture("smartrecruiters/synthetic_page1.json"),
                &first,
                "Fallback",
            )
            .expect("page 1");
        assert_eq!(page.items.len(), 2);
        let next = page.next.expect("a second page");
        assert_eq!(
            next.as_str(),
            "https://api.smartrecruiters.com/v1/companies/Acme/postings?limit=2&offset=2"
        );
        let page = Ats::SmartRecruiters
            .parse(
                &fixture("smartrecruiters/synthetic_page2.json"),
                &next,
                "Fallback",
            )
            .expect("page 2");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next, None);
        let job = &page.items[0];
        assert_eq!(job.title, "Stagiaire Data Analyst");
        assert_eq!(job.contract.as_deref(), Some("internship"));
        assert_eq!(
            job.location.as_deref(),
            Some("Lyon, FR"),
            "no fullLocation: city and country code"
        );
        assert_eq!(
            job.company.as_deref(),
            Some("Fallback"),
            "no company object"
        );
        assert_eq!(
            job.url.as_deref(),
            Some("https://jobs.smartrecruiters.com/Acme/744000000000003"),
            "company id from the API path"
        );
    }

    #[test]
    fn parses_ubisoft_page() {
        let base =
            url("https://api.smartrecruiters.com/v1/companies/Ubisoft2/postings?limit=2&offset=0");
        let page = parse(
            &fixture("smartrecruiters/hunt_ubisoft_postings.json"),
            &base,
            "Fallback",
        )
        .expect("page");
        assert_eq!(page.items.len(), 2);
        assert_eq!(
            page.next.map(String::from).as_deref(),
            Some("https://api.smartrecruiters.com/v1/companies/Ubisoft2/postings?limit=2&offset=2")
        );
        let job = &page.items[0];
        assert_eq!(job.guid.as_deref(), Some("744000151912444"));
        assert_eq!(
            job.title,
            "Spécialiste Fiabilité outils et infrastructures - TGQF"
        );
        assert_eq!(
            job.url.as_deref(),
            Some("https://jobs.smartrecruiters.com/Ubisoft2/744000151912444")
        );
        assert_eq!(job.company.as_deref(), Some("Ubisoft"));
        assert_eq!(job.location.as_deref(), Some("Montreal, QC, Canada"));
        assert_eq!(job.published, at("2026-09-25T18:18:52.891Z"));
        assert_eq!(job.remote, Some(false));
        assert_eq!(job.contract.as_deref(), Some("cdi"), "Full-time");
        assert_eq!(job.tags, ["Ubisoft"]);
        assert_eq!((job.summary.as_deref(), job.salary.as_ref()), (None, None));
    }

    #[test]
    fn last_page_and_missing_fields() {
        let base = url(
            "https://api.smartrecruiters.com/v1/companies/ABOUTYOUGmbH/postings?limit=100&offset=0",
        );
        let page = parse(
            &fixture("smartrecruiters/plin_aboutyou_postings.json"),
            &base,
            "About You",
        )
        .expect("page");
        assert_eq!(page.items.len(), 3);
        assert_eq!(page.next, None);
        let job = &page.items[2];
        assert_eq!(job.title, "Senior Backend Engineer (all genders)");
        assert_eq!(job.location.as_deref(), Some("Hamburg, HH, DE"));
        assert_eq!(job.remote, Some(true));
        assert_eq!(job.contract, None);
        assert_eq!(job.company.as_deref(), Some("ABOUT YOU SE & Co. KG"));
        assert_eq!(page.items[0].contract.as_deref(), Some("internship"));
    }

    #[test]
    fn paging_guards() {
        let base = url("https://x.org/v1/companies/a/postings?offset=5&limit=1");
        let next = |body: &str| {
            parse(body.as_bytes(), &base, "A")
                .expect("page")
                .next
                .map(String::from)
        };
        assert_eq!(
            next(r#"{"content": [], "offset": 0, "totalFound": 10}"#),
            None
        );
        assert_eq!(
            next(r#"{"content": [{}], "totalFound": 10}"#).as_deref(),
            Some("https://x.org/v1/companies/a/postings?limit=1&offset=6")
        );
        assert_eq!(
            next(r#"{"content": [{}], "offset": 9, "totalFound": 10}"#),
            None
        );
        assert_eq!(
            next(r#"{"content": [{}], "offset": 0, "totalFound": "10"}"#),
            None
        );
        assert_eq!(
            next(r#"{"content": [{}], "offset": 18446744073709551615, "totalFound": 1e30}"#),
            None
        );
    }
}
