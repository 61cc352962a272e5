//! Recruitee careers-site API: `GET https://{company}.recruitee.com/api/offers/`,
//! `{"offers": [...]}` in, one [`Item`] per offer out.
//!
//! Owns: the endpoint and the field mapping (`careers_url`, location parts,
//! `employment_type_code`, string-valued `salary`).
//! Does not own: dispatch, errors and shared field helpers (`ats`), fetching.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::ats::{
    self, Ats, AtsError, add_tag, array, company_or, contract, flag, get, id, join_location, link,
    number, raw, summary_plain, text,
};
use crate::normalise::html_to_text;
use crate::offer::Item;

const ATS: Ats = Ats::Recruitee;

/// The company's published offers, for a validated token.
pub(crate) fn endpoint(token: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!("https://{token}.recruitee.com/api/offers/"))
}

#[derive(Deserialize)]
struct Offers {
    offers: Vec<Value>,
}

/// The offers of a response; `base` resolves relative links.
pub(crate) fn parse(body: &[u8], base: &Url, company: &str) -> Result<Vec<Item>, AtsError> {
    let offers: Offers = ats::from_json(body, ATS, "an object with an `offers` array")?;
    Ok(offers
        .offers
        .iter()
        .filter_map(|offer| item(offer, base, company))
        .collect())
}

fn item(offer: &Value, base: &Url, company: &str) -> Option<Item> {
    let title = text(offer, &["title"])?;
    let mut tags = Vec::new();
    add_tag(&mut tags, text(offer, &["department"]));
    for tag in array(offer, &["tags"]) {
        add_tag(&mut tags, text(tag, &[]));
    }
    // City and country read better than `location`, which repeats the
    // region (`Utrecht, Utrecht, Netherlands`); `location` is the fallback
    // (`Remote`, or a board that fills only it).
    let location = join_location([text(offer, &["city"]), text(offer, &["country"])])
        .or_else(|| text(offer, &["location"]));
    // The description then the requirements: both are what a profile
    // matches on. Each is its own fragment, so that a tag left open in one
    // cannot swallow the other.
    let description = [raw(offer, &["description"]), raw(offer, &["requirements"])]
        .into_iter()
        .flatten()
        .map(html_to_text)
        .collect::<Vec<_>>()
        .join(" ");
    let pay = get(offer, &["salary"]);
    let salary = pay.and_then(|p| {
        ats::salary(
            number(p, &["min"]),
            number(p, &["max"]),
            raw(p, &["currency"]),
            raw(p, &["period"]),
        )
    });
    Some(Item {
        guid: id(offer, &["id"]),
        url: link(
            raw(offer, &["careers_url"]).or_else(|| raw(offer, &["url"])),
            base,
        ),
        company: company_or(text(offer, &["company_name"]), company),
        location,
        published: raw(offer, &["published_at"])
            .or_else(|| raw(offer, &["created_at"]))
            .and_then(ats::date),
        summary: summary_plain(&description),
        remote: flag(offer, &["remote"]),
        contract: contract(raw(offer, &["employment_type_code"]), &title),
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
    fn parses_channable_offers() {
        let base = url("https://channable.recruitee.com/api/offers/");
        let page = Ats::Recruitee
            .parse(
                &fixture("recruitee/hunt_channable_offers.json"),
                &base,
                "Fallback",
            )
            .expect("recruitee offers");
        assert_eq!(page.items.len(), 2);
        let job = &page.items[0];
        assert_eq!(job.guid.as_deref(), Some("2751915"));
        assert_eq!(
            job.title,
            "Customer Success Manager Benelux - Dutch speaking"
        );
        assert_eq!(
            job.url.as_deref(),
            Some("https://jobs.channable.com/o/customer-success-manager-benelux-dutch-speaking-3")
        );
        assert_eq!(job.company.as_deref(), Some("Channable"));
        assert_eq!(job.location.as_deref(), Some("Utrecht, Netherlands"));
        assert_eq!(job.published, at("2026-09-18T13:27:28Z"));
        assert_eq!(job.remote, Some(false));
        assert_eq!(job.contract.as_deref(), Some("cdi"), "fulltime_permanent");
        assert_eq!(job.tags, ["Customer Success"]);
        assert_eq!(
            job.salary,
            Some(Salary {
                min: Some(3750.0),
                max: Some(5250.0),
                currency: Some("EUR".into()),
                period: Some("month".into())
            })
        );
        let summary = job.summary.as_deref().expect("summary");
        assert!(
            summary.starts_with("Channable is a fast-growing B2B SaaS platform"),
            "{summary}"
        );
        assert!(
            summary.contains("Your role"),
            "requirements follow the description"
        );
        assert!(!summary.contains('<'));
        assert_eq!(
            page.items[1]
                .salary
                .as_ref()
                .and_then(|s| s.period.as_deref()),
            Some("year")
        );
    }
}
