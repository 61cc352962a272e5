//! Greenhouse job board API: `GET
//! https://boards-api.greenhouse.io/v1/boards/{token}/jobs?content=true`,
//! `{"jobs": [...]}` in, one [`Item`] per job out.
//!
//! Owns: the endpoint and the field mapping, including the job `content`,
//! which Greenhouse sends as entity-escaped HTML (`&lt;p&gt;`).
//! Does not own: dispatch, errors and shared field helpers (`ats`), fetching.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::ats::{
    self, Ats, AtsError, add_tag, array, company_or, contract, id, link, raw, summary_html, text,
};
use crate::normalise::html_to_text;
use crate::offer::Item;

const ATS: Ats = Ats::Greenhouse;

/// The board's jobs with their content, for a validated token.
pub(crate) fn endpoint(token: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!(
        "https://boards-api.greenhouse.io/v1/boards/{token}/jobs?content=true"
    ))
}

#[derive(Deserialize)]
struct Board {
    jobs: Vec<Value>,
}

/// The jobs of a board response; `base` resolves relative links.
pub(crate) fn parse(body: &[u8], base: &Url, company: &str) -> Result<Vec<Item>, AtsError> {
    let board: Board = ats::from_json(body, ATS, "an object with a `jobs` array")?;
    Ok(board
        .jobs
        .iter()
        .filter_map(|job| item(job, base, company))
        .collect())
}

fn item(job: &Value, base: &Url, company: &str) -> Option<Item> {
    let title = text(job, &["title"])?;
    let mut tags = Vec::new();
    for department in array(job, &["departments"]) {
        add_tag(&mut tags, text(department, &["name"]));
    }
    // `first_published` (newer boards) is when the job went up; `updated_at`
    // moves on every edit and is only the fallback.
    let published = raw(job, &["first_published"])
        .and_then(ats::date)
        .or_else(|| raw(job, &["updated_at"]).and_then(ats::date));
    Some(Item {
        guid: id(job, &["id"]),
        url: link(raw(job, &["absolute_url"]), base),
        company: company_or(text(job, &["company_name"]), company),
        location: text(job, &["location", "name"]),
        published,
        summary: raw(job, &["content"]).and_then(|c| summary_html(&unescape(c))),
        // Greenhouse has no employment type field.
        contract: contract(None, &title),
        remote: None,
        tags,
        title,
        ..Item::default()
    })
}

/// Greenhouse's `content` is HTML escaped once more (`&lt;p&gt;`): decoding
/// the entities once gives the HTML. Content that already holds tags is left
/// alone, so that a board (or proxy) sending plain HTML is not decoded twice.
fn unescape(content: &str) -> String {
    let has_tags = content
        .as_bytes()
        .windows(2)
        .any(|w| matches!(w, [b'<', c] if c.is_ascii_alphabetic() || *c == b'/' || *c == b'!'));
    if has_tags {
        content.to_owned()
    } else {
        // Without tags, the HTML parser only decodes entities.
        html_to_text(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ats::tests::{at, fixture, url};

    #[test]
    fn parses_vercel_board() {
        let base = url("https://boards-api.greenhouse.io/v1/boards/vercel/jobs?content=true");
        let page = Ats::Greenhouse
            .parse(
                &fixture("greenhouse/hunt_vercel_board_jobs_content.json"),
                &base,
                "Fallback",
            )
            .expect("greenhouse board");
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, None);
        let job = &page.items[0];
        assert_eq!(job.guid.as_deref(), Some("6136160004"));
        assert_eq!(job.title, "Account Executive, Commercial");
        assert_eq!(
            job.url.as_deref(),
            Some("https://job-boards.greenhouse.io/vercel/jobs/6136160004")
        );
        assert_eq!(job.company.as_deref(), Some("Vercel"));
        assert_eq!(job.location.as_deref(), Some("Hybrid - London"));
        assert_eq!(job.published, at("2026-08-06T16:50:10Z"));
        assert_eq!(job.tags, ["Account Executive"]);
        assert_eq!(job.remote, None);
        assert_eq!(job.contract, None);
        assert_eq!(job.salary, None);
        let summary = job.summary.as_deref().expect("summary");
        assert!(
            summary.starts_with("About Vercel: Vercel is the agentic infrastructure company"),
            "{summary}"
        );
        assert!(summary.contains("ship what's next."), "{summary}");
        for leftover in ["<", ">", "&lt;", "&gt;", "&quot;", "&#39;", "&amp;", "span"] {
            assert!(!summary.contains(leftover), "{leftover} in {summary}");
        }
    }

    #[test]
    fn parses_2013_board_with_fallbacks() {
        let base =
            url("https://boards-api.greenhouse.io/v1/boards/generalassembly/jobs?content=true");
        let items = parse(
            &fixture("greenhouse/greenhouse_io_2013_jobs_with_content.json"),
            &base,
            "General Assembly",
        )
        .expect("greenhouse board");
        assert_eq!(items.len(), 2);
        let job = &items[1];
        assert_eq!(job.guid.as_deref(), Some("722"));
        assert_eq!(job.title, "Finance Analyst");
        assert_eq!(job.company.as_deref(), Some("General Assembly"));
        assert_eq!(
            job.url.as_deref(),
            Some("http://boards.greenhouse.io/generalassembly/jobs/722")
        );
        assert_eq!(job.published, at("2013-09-12T21:01:50Z"));
        assert_eq!(job.tags, ["Finance"]);
        let summary = items[0].summary.as_deref().expect("summary");
        assert!(
            summary.starts_with("Who this job is right for Anim wes anderson"),
            "{summary}"
        );
        assert!(!summary.contains('<') && !summary.contains("&lt;"));
    }

    #[test]
    fn content_escaping() {
        assert_eq!(
            summary_html(&unescape(
                "&lt;p&gt;R&amp;amp;D &amp;lt; 5&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;"
            ))
            .as_deref(),
            Some("R&D < 5")
        );
        // Already HTML: decoded once only.
        assert_eq!(
            summary_html(&unescape("<p>a &amp;lt;b&amp;gt;</p>")).as_deref(),
            Some("a &lt;b&gt;")
        );
    }

    #[test]
    fn odd_jobs_are_skipped_not_fatal() {
        let body = br#"{"jobs": [null, {"id": 1}, {"id": "x", "title": "  "}, {"title": "Rust intern", "id": 2.5,
            "absolute_url": "mailto:a@b.c", "location": 3, "departments": [{"name": null}, 4], "updated_at": "soon"}]}"#;
        let items = parse(body, &url("https://x.org/"), "").expect("page");
        assert_eq!(items.len(), 1);
        let job = &items[0];
        assert_eq!(
            (job.title.as_str(), job.guid.as_deref(), job.url.as_deref()),
            ("Rust intern", None, None)
        );
        assert_eq!(
            (
                job.company.as_deref(),
                job.location.as_deref(),
                job.published
            ),
            (None, None, None)
        );
        assert_eq!(job.contract.as_deref(), Some("internship"));
        assert!(job.tags.is_empty());
    }
}
