//! Ashby posting API: `GET
//! https://api.ashbyhq.com/posting-api/job-board/{name}?includeCompensation=true`,
//! `{"jobs": [...]}` in, one [`Item`] per listed job out.
//!
//! Owns: the endpoint and the field mapping (unlisted jobs skipped,
//! `isRemote`/`workplaceType`, `compensation` salary components).
//! Does not own: dispatch, errors and shared field helpers (`ats`), fetching.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::ats::{
    self, Ats, AtsError, add_tag, array, company_or, contract, flag, get, id, join_location,
    join_locations, link, number, raw, summary_html, summary_plain, text,
};
use crate::offer::{Item, Salary};

const ATS: Ats = Ats::Ashby;

/// The board's published jobs with compensation, for a validated token.
pub(crate) fn endpoint(token: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!(
        "https://api.ashbyhq.com/posting-api/job-board/{token}?includeCompensation=true"
    ))
}

#[derive(Deserialize)]
struct Board {
    jobs: Vec<Value>,
}

/// The listed jobs of a board response; `base` resolves relative links.
pub(crate) fn parse(body: &[u8], base: &Url, company: &str) -> Result<Vec<Item>, AtsError> {
    let board: Board = ats::from_json(body, ATS, "an object with a `jobs` array")?;
    Ok(board
        .jobs
        .iter()
        .filter_map(|job| item(job, base, company))
        .collect())
}

fn item(job: &Value, base: &Url, company: &str) -> Option<Item> {
    // An unlisted job is reachable by its link only: the company does not
    // advertise it.
    if flag(job, &["isListed"]) == Some(false) {
        return None;
    }
    let title = text(job, &["title"])?;
    let mut tags = Vec::new();
    add_tag(&mut tags, text(job, &["department"]));
    add_tag(&mut tags, text(job, &["team"]));
    let primary = text(job, &["location"]).or_else(|| {
        let address = |key: &str| text(job, &["address", "postalAddress", key]);
        join_location([
            address("addressLocality"),
            address("addressRegion"),
            address("addressCountry"),
        ])
    });
    let location = join_locations(
        std::iter::once(primary).chain(
            array(job, &["secondaryLocations"])
                .iter()
                .map(|l| text(l, &["location"])),
        ),
    );
    let summary = raw(job, &["descriptionPlain"])
        .and_then(summary_plain)
        .or_else(|| raw(job, &["descriptionHtml"]).and_then(summary_html));
    Some(Item {
        guid: id(job, &["id"]),
        url: link(raw(job, &["jobUrl"]), base),
        // The posting API names no company.
        company: company_or(None, company),
        location,
        published: raw(job, &["publishedAt"]).and_then(ats::date),
        summary,
        remote: flag(job, &["isRemote"])
            .or_else(|| raw(job, &["workplaceType"]).and_then(ats::workplace)),
        contract: contract(raw(job, &["employmentType"]), &title),
        tags,
        salary: get(job, &["compensation"]).and_then(compensation),
        title,
        ..Item::default()
    })
}

/// The base salary among the compensation components: the summary ones,
/// else those of the first tier. Equity and bonus components are not pay.
fn compensation(comp: &Value) -> Option<Salary> {
    let tier_components = array(comp, &["compensationTiers"])
        .first()
        .map_or(&[][..], |t| array(t, &["components"]));
    let components = match array(comp, &["summaryComponents"]) {
        [] => tier_components,
        summary => summary,
    };
    components
        .iter()
        .find(|c| raw(c, &["compensationType"]).is_some_and(|t| t.eq_ignore_ascii_case("salary")))
        .and_then(|c| {
            ats::salary(
                number(c, &["minValue"]),
                number(c, &["maxValue"]),
                raw(c, &["currencyCode"]),
                raw(c, &["interval"]),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ats::tests::{at, fixture, url};

    #[test]
    fn parses_kovo_board_with_salary() {
        let base =
            url("https://api.ashbyhq.com/posting-api/job-board/kovo?includeCompensation=true");
        let page = Ats::Ashby
            .parse(&fixture("ashby/kovo.json"), &base, "Kovo")
            .expect("ashby board");
        assert_eq!(page.items.len(), 1);
        let job = &page.items[0];
        assert_eq!(
            job.guid.as_deref(),
            Some("691c4294-855e-4ab9-b6d9-8d70c6e09866")
        );
        assert_eq!(job.title, "Senior hire: 🛠️ Backend Engineering");
        assert_eq!(job.company.as_deref(), Some("Kovo"));
        assert_eq!(job.location.as_deref(), Some("United States"));
        assert_eq!(job.remote, Some(true));
        assert_eq!(job.contract.as_deref(), Some("cdi"));
        assert_eq!(job.published, at("2025-09-02T00:19:32.569Z"));
        assert_eq!(job.tags, ["Development"]);
        assert_eq!(
            job.salary,
            Some(Salary {
                min: Some(150000.0),
                max: Some(200000.0),
                currency: Some("USD".into()),
                period: Some("year".into())
            })
        );
        assert_eq!(
            job.url.as_deref(),
            Some("https://jobs.ashbyhq.com/kovo/691c4294-855e-4ab9-b6d9-8d70c6e09866")
        );
        let summary = job.summary.as_deref().expect("summary");
        assert!(
            summary.starts_with("JOIN AN EARLY-STAGE STARTUP. UNLOCK ACCESS TO CREDIT."),
            "{summary}"
        );
    }

    #[test]
    fn skips_unlisted_and_maps_fields() {
        let base =
            url("https://api.ashbyhq.com/posting-api/job-board/acme?includeCompensation=true");
        let items =
            parse(&fixture("ashby/synthetic_job_board.json"), &base, "Acme").expect("ashby board");
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Backend Engineer",
                "Product Design Intern",
                "Support Specialist"
            ]
        );
        let job = &items[0];
        assert_eq!(
            job.guid.as_deref(),
            Some("11111111-1111-4111-8111-111111111111")
        );
        assert_eq!(
            job.url.as_deref(),
            Some("https://jobs.ashbyhq.com/acme/11111111-1111-4111-8111-111111111111")
        );
        assert_eq!(job.location.as_deref(), Some("Paris, France; Lyon, France"));
        assert_eq!(job.remote, Some(false));
        assert_eq!(job.contract.as_deref(), Some("cdi"));
        assert_eq!(job.tags, ["Engineering", "Core"]);
        assert_eq!(
            job.summary.as_deref(),
            Some("Own our APIs. Rust and Postgres.")
        );
        assert_eq!(
            job.salary,
            Some(Salary {
                min: Some(60000.0),
                max: Some(75000.0),
                currency: Some("EUR".into()),
                period: Some("year".into())
            })
        );
        let intern = &items[1];
        assert_eq!(intern.contract.as_deref(), Some("internship"));
        assert_eq!(
            intern.remote,
            Some(true),
            "workplaceType when isRemote is absent"
        );
        assert_eq!(
            intern.location.as_deref(),
            Some("Berlin, Germany"),
            "from the postal address"
        );
        assert_eq!(
            intern.summary.as_deref(),
            Some("Design with us."),
            "from descriptionHtml"
        );
        assert_eq!(
            intern.salary.as_ref().and_then(|s| s.period.as_deref()),
            Some("month"),
            "from the tier"
        );
        assert_eq!(items[2].contract.as_deref(), Some("cdd"));
        assert_eq!(items[2].salary, None, "equity only");
    }
}
