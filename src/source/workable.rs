//! Workable public widget API: `GET
//! https://apply.workable.com/api/v1/widget/accounts/{slug}?details=true`,
//! `{"name": …, "jobs": [...]}` in, one [`Item`] per job out.
//!
//! Owns: the endpoint and the field mapping. Jobs in the authenticated SPI v3
//! shape (`location` as an object, `created_at`) are read too, as far as
//! their fields overlap, since a full-URL token may point at such a dump.
//! Does not own: dispatch, errors and shared field helpers (`ats`), fetching.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::ats::{
    self, Ats, AtsError, add_tag, array, company_or, contract, flag, get, id, join_location, link,
    raw, summary_html, text,
};
use crate::offer::Item;

const ATS: Ats = Ats::Workable;

/// The account's published jobs with descriptions, for a validated token.
pub(crate) fn endpoint(token: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!(
        "https://apply.workable.com/api/v1/widget/accounts/{token}?details=true"
    ))
}

#[derive(Deserialize)]
struct Account {
    /// The company's name; a `Value` so that an odd type is ignored rather
    /// than failing the page.
    #[serde(default)]
    name: Value,
    jobs: Vec<Value>,
}

/// The jobs of a widget response; `base` resolves relative links.
pub(crate) fn parse(body: &[u8], base: &Url, company: &str) -> Result<Vec<Item>, AtsError> {
    let account: Account = ats::from_json(body, ATS, "an object with a `jobs` array")?;
    let name = text(&account.name, &[]);
    Ok(account
        .jobs
        .iter()
        .filter_map(|job| item(job, name.as_ref(), base, company))
        .collect())
}

fn item(job: &Value, name: Option<&String>, base: &Url, company: &str) -> Option<Item> {
    let title = text(job, &["title"])?;
    let mut tags = Vec::new();
    add_tag(&mut tags, text(job, &["department"]));
    // The widget puts city, state and country on the job (some widget jobs
    // only fill `locations`); SPI v3 has a `location` object, and its `state`
    // is the job's status, not a region.
    let location = if get(job, &["location"]).is_some_and(Value::is_object) {
        let part = |key: &str| text(job, &["location", key]);
        join_location([part("city"), part("region"), part("country")])
            .or_else(|| part("location_str"))
    } else {
        let first = array(job, &["locations"]).first();
        let part = |key: &str, list: &str| {
            text(job, &[key]).or_else(|| first.and_then(|l| text(l, &[list])))
        };
        join_location([
            part("city", "city"),
            part("state", "region"),
            part("country", "country"),
        ])
    };
    let remote = flag(job, &["telecommuting"])
        .or_else(|| flag(job, &["location", "telecommuting"]))
        .or_else(|| raw(job, &["workplace_type"]).and_then(ats::workplace));
    let published = raw(job, &["published_on"])
        .or_else(|| raw(job, &["created_at"]))
        .and_then(ats::date);
    let summary = raw(job, &["description"])
        .or_else(|| raw(job, &["full_description"]))
        .and_then(summary_html);
    Some(Item {
        // The shortcode is what the public links use; SPI v3 also has `id`.
        guid: id(job, &["shortcode"]).or_else(|| id(job, &["id"])),
        url: link(
            raw(job, &["url"]).or_else(|| raw(job, &["shortlink"])),
            base,
        ),
        company: company_or(name.cloned(), company),
        location,
        published,
        summary,
        remote,
        contract: contract(raw(job, &["employment_type"]), &title),
        tags,
        title,
        ..Item::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ats::tests::{at, fixture, url};

    #[test]
    fn parses_widget_with_details() {
        let base = url("https://apply.workable.com/api/v1/widget/accounts/acme?details=true");
        let page = Ats::Workable
            .parse(
                &fixture("workable/synthetic_widget_details.json"),
                &base,
                "Fallback",
            )
            .expect("workable widget");
        assert_eq!(page.items.len(), 3);
        let job = &page.items[0];
        assert_eq!(job.guid.as_deref(), Some("A1B2C3D4E5"));
        assert_eq!(job.title, "Backend Developer (Rust)");
        assert_eq!(
            job.url.as_deref(),
            Some("https://apply.workable.com/j/A1B2C3D4E5")
        );
        assert_eq!(job.company.as_deref(), Some("Acme Robotics"));
        assert_eq!(job.location.as_deref(), Some("Athens, Attica, Greece"));
        assert_eq!(job.published, at("2024-01-15T00:00:00Z"));
        assert_eq!(job.remote, Some(false));
        assert_eq!(job.contract.as_deref(), Some("cdi"));
        assert_eq!(job.tags, ["Engineering"]);
        assert_eq!(job.summary.as_deref(), Some("We build robots. Rust Linux"));
        assert_eq!(job.salary, None);
        let remote = &page.items[1];
        assert_eq!(remote.remote, Some(true));
        assert_eq!(remote.contract.as_deref(), Some("cdd"));
        assert_eq!(
            remote.location.as_deref(),
            Some("Lisbon, Portugal"),
            "from `locations`"
        );
        assert_eq!(
            page.items[2].contract.as_deref(),
            Some("internship"),
            "from the title"
        );
        assert_eq!(page.items[2].location, None);
    }

    #[test]
    fn reads_spi_v3_jobs_too() {
        let base = url("https://www.workable.com/spi/v3/accounts/groove-tech/jobs");
        let items = parse(&fixture("workable/spi_v3_jobs.json"), &base, "Groove").expect("v3 jobs");
        assert_eq!(items.len(), 3);
        let job = &items[0];
        assert_eq!(job.guid.as_deref(), Some("GROOV003"));
        assert_eq!(job.company.as_deref(), Some("Groove"));
        assert_eq!(
            job.location.as_deref(),
            Some("Portland, Oregon, United States")
        );
        assert_eq!(job.remote, Some(false));
        assert_eq!(job.published, at("2015-07-01T00:00:00Z"));
        assert_eq!(job.contract.as_deref(), Some("internship"));
    }
}
