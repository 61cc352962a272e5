//! Personio job XML: `GET https://{company}.jobs.personio.de/xml?language=en`,
//! `<workzag-jobs><position>…</position></workzag-jobs>` in, one [`Item`]
//! per position out, parsed with roxmltree.
//!
//! Owns: the endpoint, the XML checks (well-formed, `<workzag-jobs>` root;
//! DTDs are refused, so no entity expansion) and the field mapping, with the
//! job link built as `{board}/job/{id}` on the host the XML came from.
//! Does not own: dispatch, errors and shared field helpers (`ats`), fetching.

use roxmltree::{Document, Node};
use url::Url;

use super::ats::{
    self, Ats, AtsError, add_tag, company_or, contract, join_locations, summary_plain,
};
use crate::normalise::{canonical_url, html_to_text, plain};
use crate::offer::Item;

const ATS: Ats = Ats::Personio;
/// The root element of Personio's job XML.
const ROOT: &str = "workzag-jobs";

/// The company's published positions in English, for a validated token.
pub(crate) fn endpoint(token: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!("https://{token}.jobs.personio.de/xml?language=en"))
}

/// The positions of a job XML fetched from `url`.
pub(crate) fn parse(body: &[u8], url: &Url, company: &str) -> Result<Vec<Item>, AtsError> {
    // `decode` honours the XML declaration's encoding and rewrites it to
    // UTF-8, which is what roxmltree reads.
    let text = ats::body_text(body, ATS, "XML")?;
    let doc = Document::parse(&text).map_err(|e| ats::xml_error(ATS, &e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != ROOT {
        return Err(ats::xml_error(
            ATS,
            &format!(
                "the root element is <{}>, not <{ROOT}>",
                root.tag_name().name()
            ),
        ));
    }
    Ok(root
        .children()
        .filter(|n| n.has_tag_name("position"))
        .filter_map(|position| item(position, url, company))
        .collect())
}

fn item(position: Node<'_, '_>, url: &Url, company: &str) -> Option<Item> {
    let title = field(position, "name")?;
    let id = field(position, "id");
    let mut tags = Vec::new();
    add_tag(&mut tags, field(position, "department"));
    let additional = child(position, "additionalOffices")
        .into_iter()
        .flat_map(|offices| offices.children().filter(|n| n.has_tag_name("office")))
        .map(text_of);
    let location = join_locations(std::iter::once(field(position, "office")).chain(additional));
    // The schedule (`full-time`) says little of the contract; it is only
    // read when the position has no employment type at all.
    let employment = field(position, "employmentType").or_else(|| field(position, "schedule"));
    Some(Item {
        url: id.as_deref().and_then(|id| job_url(url, id)),
        guid: id,
        company: company_or(field(position, "subcompany"), company),
        location,
        published: field(position, "createdAt").as_deref().and_then(ats::date),
        summary: summary(position),
        // Personio has no remote field.
        remote: None,
        contract: contract(employment.as_deref(), &title),
        tags,
        title,
        ..Item::default()
    })
}

/// The job descriptions, each section's name then its text.
fn summary(position: Node<'_, '_>) -> Option<String> {
    let sections = child(position, "jobDescriptions")?;
    let mut text = String::new();
    for section in sections
        .children()
        .filter(|n| n.has_tag_name("jobDescription"))
    {
        // Each value is its own HTML fragment, so that a tag left open in
        // one cannot swallow the next.
        let parts = [
            field(section, "name"),
            child(section, "value").map(|v| html_to_text(&raw_text(v))),
        ];
        for part in parts.into_iter().flatten() {
            text.push_str(&part);
            text.push(' ');
        }
    }
    summary_plain(&text)
}

/// The position's page: `/job/{id}` on the board the XML came from (its
/// `.de` or `.com` host, or a test server). `None` for an id that is not
/// plain letters and digits, which could otherwise change the path.
fn job_url(url: &Url, id: &str) -> Option<String> {
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) || !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.join(&format!("/job/{id}"))
        .ok()
        .map(|u| canonical_url(&u))
}

/// The first child element named `name`.
fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.has_tag_name(name))
}

/// The tidy text of the first child element named `name`; `None` when
/// absent or empty.
fn field(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).and_then(text_of)
}

/// An element's tidy text, `None` when empty.
fn text_of(node: Node<'_, '_>) -> Option<String> {
    let s = plain(&raw_text(node));
    (!s.is_empty()).then_some(s)
}

/// All the text inside an element (CDATA included), as written.
fn raw_text(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ats::tests::{at, fixture, url};

    #[test]
    fn parses_positions() {
        let base = url("https://acme.jobs.personio.de/xml?language=en");
        let page = Ats::Personio
            .parse(&fixture("personio/synthetic_positions.xml"), &base, "Acme")
            .expect("personio xml");
        assert_eq!(
            page.items.len(),
            4,
            "the position without a name is skipped"
        );
        let job = &page.items[0];
        assert_eq!(job.guid.as_deref(), Some("1234567"));
        assert_eq!(job.title, "Senior Backend Engineer (m/w/d)");
        assert_eq!(
            job.url.as_deref(),
            Some("https://acme.jobs.personio.de/job/1234567")
        );
        assert_eq!(job.company.as_deref(), Some("Acme Payments GmbH"));
        assert_eq!(job.location.as_deref(), Some("Berlin; Hamburg"));
        assert_eq!(job.published, at("2024-05-02T10:11:12Z"));
        assert_eq!(job.remote, None);
        assert_eq!(job.contract.as_deref(), Some("cdi"));
        assert_eq!(job.tags, ["Engineering"]);
        assert_eq!(
            job.summary.as_deref(),
            Some("Your mission Build our payment platform. Your profile Rust & Go Tests < 5 min")
        );
        let intern = &page.items[1];
        assert_eq!(intern.company.as_deref(), Some("Acme"), "empty subcompany");
        assert_eq!(intern.contract.as_deref(), Some("internship"));
        assert_eq!(intern.location.as_deref(), Some("München"));
        assert_eq!(intern.published, at("2024-05-03T06:00:00Z"));
        assert_eq!(intern.summary, None);
        assert_eq!(
            page.items[2].contract, None,
            "working_student, and the schedule is not read"
        );
        assert_eq!(
            page.items[3].contract.as_deref(),
            Some("cdi"),
            "schedule when no employment type"
        );
        assert_eq!(page.items[3].url, None, "an id that is not alphanumeric");
    }

    #[test]
    fn com_host_and_latin1() {
        let base = url("https://acme.jobs.personio.com/xml?language=en");
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><workzag-jobs><position><id>7</id><name>Caf\xe9 manager</name></position></workzag-jobs>";
        let items = parse(body, &base, "Acme").expect("xml");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "Café manager");
        assert_eq!(
            items[0].url.as_deref(),
            Some("https://acme.jobs.personio.com/job/7")
        );
    }

    #[test]
    fn not_personio_xml() {
        let base = url("https://acme.jobs.personio.de/xml");
        let err = |body: &str| {
            parse(body.as_bytes(), &base, "Acme")
                .expect_err("error")
                .to_string()
        };
        assert_eq!(
            err("<rss><channel/></rss>"),
            "not Personio XML: the root element is <rss>, not <workzag-jobs>"
        );
        assert_eq!(
            err("<!DOCTYPE html><html></html>"),
            "not Personio XML: the response is an HTML page"
        );
        assert_eq!(err(""), "empty response from Personio");
        let e = err("<workzag-jobs><position></workzag-jobs>");
        assert!(
            e.starts_with("not Personio XML: ") && !e.contains('\n'),
            "{e}"
        );
        let e = err(
            "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY a \"aaaa\">]><workzag-jobs>&a;</workzag-jobs>",
        );
        assert!(e.starts_with("not Personio XML: "), "{e}");
        assert_eq!(parse(b"<workzag-jobs/>", &base, "Acme"), Ok(Vec::new()));
    }
}
