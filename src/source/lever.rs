//! Lever postings API: `GET https://api.lever.co/v0/postings/{site}?mode=json`,
//! a bare JSON array of postings in, one [`Item`] per posting out.
//!
//! Owns: the endpoint and the field mapping (millisecond `createdAt`,
//! `categories`, `workplaceType`, `salaryRange`).
//! Does not own: dispatch, errors and shared field helpers (`ats`), fetching.

use chrono::DateTime;
use serde_json::Value;
use url::Url;

use super::ats::{
    self, Ats, AtsError, add_tag, array, company_or, contract, get, id, join_locations, link,
    number, raw, summary_html, summary_plain, text,
};
use crate::offer::Item;

const ATS: Ats = Ats::Lever;

/// The site's published postings as JSON, for a validated token.
pub(crate) fn endpoint(token: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!(
        "https://api.lever.co/v0/postings/{token}?mode=json"
    ))
}

/// The postings of a response; `base` resolves relative links.
pub(crate) fn parse(body: &[u8], base: &Url, company: &str) -> Result<Vec<Item>, AtsError> {
    let postings: Vec<Value> = ats::from_json(body, ATS, "an array of postings")?;
    Ok(postings
        .iter()
        .filter_map(|posting| item(posting, base, company))
        .collect())
}

fn item(posting: &Value, base: &Url, company: &str) -> Option<Item> {
    let title = text(posting, &["text"])?;
    let categories = |key: &str| text(posting, &["categories", key]);
    let mut tags = Vec::new();
    add_tag(&mut tags, categories("department"));
    add_tag(&mut tags, categories("team"));
    // `location` is the primary one; `allLocations` repeats it among others.
    let location = join_locations(
        std::iter::once(categories("location")).chain(
            array(posting, &["categories", "allLocations"])
                .iter()
                .map(|l| text(l, &[])),
        ),
    );
    let summary = raw(posting, &["descriptionPlain"])
        .and_then(summary_plain)
        .or_else(|| raw(posting, &["description"]).and_then(summary_html));
    let range = get(posting, &["salaryRange"]);
    let salary = range.and_then(|r| {
        ats::salary(
            number(r, &["min"]),
            number(r, &["max"]),
            raw(r, &["currency"]),
            raw(r, &["interval"]),
        )
    });
    Some(Item {
        guid: id(posting, &["id"]),
        url: link(raw(posting, &["hostedUrl"]), base),
        // Lever names no company in its postings.
        company: company_or(None, company),
        location,
        // Epoch milliseconds, not seconds.
        published: get(posting, &["createdAt"])
            .and_then(Value::as_i64)
            .and_then(DateTime::from_timestamp_millis),
        summary,
        remote: raw(posting, &["workplaceType"]).and_then(ats::workplace),
        contract: contract(categories("commitment").as_deref(), &title),
        tags,
        salary,
        title,
        ..Item::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offer::Salary;
    use crate::source::ats::tests::{at, fixture, url};

    #[test]
    fn parses_spotify_postings() {
        let base = url("https://api.lever.co/v0/postings/spotify?mode=json");
        let page = Ats::Lever
            .parse(
                &fixture("lever/hunt_spotify_postings.json"),
                &base,
                "Spotify",
            )
            .expect("lever postings");
        assert_eq!(page.items.len(), 2);
        let job = &page.items[0];
        assert_eq!(
            job.guid.as_deref(),
            Some("2193db3f-77c5-43b8-b030-8f92c9882bf1")
        );
        assert_eq!(job.title, "Android Engineer - Experience");
        assert_eq!(
            job.url.as_deref(),
            Some("https://jobs.lever.co/spotify/2193db3f-77c5-43b8-b030-8f92c9882bf1")
        );
        assert_eq!(job.company.as_deref(), Some("Spotify"));
        assert_eq!(job.location.as_deref(), Some("London; Stockholm"));
        // 1782214185805 ms after the epoch.
        assert_eq!(job.published, at("2026-06-23T11:29:45.805Z"));
        assert_eq!(job.remote, None, "hybrid is neither remote nor on-site");
        assert_eq!(job.contract.as_deref(), Some("cdi"), "commitment Permanent");
        assert_eq!(job.tags, ["Engineering", "Experience"]);
        assert_eq!(job.salary, None);
        let summary = job.summary.as_deref().expect("summary");
        assert!(
            summary.starts_with("We design Spotify’s consumer experience—end to end"),
            "{summary}"
        );
        // "Short Term" names no contract; the title's "Contractor" does.
        assert_eq!(page.items[1].contract.as_deref(), Some("cdd"));
        assert_eq!(page.items[1].location.as_deref(), Some("Ho Chi Minh"));
    }

    #[test]
    fn parses_salary_and_workplace() {
        let items = parse(
            &fixture("lever/synthetic_postings.json"),
            &url("https://api.lever.co/"),
            "Acme",
        )
        .expect("lever postings");
        assert_eq!(items.len(), 3, "the posting without `text` is skipped");
        let job = &items[0];
        assert_eq!(job.title, "Senior Rust Engineer");
        assert_eq!(job.remote, Some(true));
        assert_eq!(job.published, at("2024-03-01T09:30:00Z"));
        assert_eq!(
            job.salary,
            Some(Salary {
                min: Some(90000.0),
                max: Some(120000.0),
                currency: Some("EUR".into()),
                period: Some("year".into())
            })
        );
        assert_eq!(job.contract.as_deref(), Some("cdi"));
        assert_eq!(
            job.url.as_deref(),
            Some("https://jobs.lever.co/acme/0a1b2c3d-0000-4000-8000-000000000001")
        );
        assert_eq!(
            job.summary.as_deref(),
            Some("Build our matching engine in Rust. Tokio, serde & friends.")
        );
        assert_eq!(items[1].remote, Some(false));
        assert_eq!(items[1].contract.as_deref(), Some("internship"));
        assert_eq!(
            items[1].salary.as_ref().and_then(|s| s.period.as_deref()),
            Some("month")
        );
        assert_eq!(
            items[1].summary.as_deref(),
            Some("Help the data team for six months.")
        );
        assert_eq!(items[2].published, None);
        assert_eq!(items[2].url, None);
    }
}
