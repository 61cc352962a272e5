//! Page adapter: a job board's HTML page in, one [`Item`] per offer out,
//! from CSS selectors (`[board.select]`) and from the page's schema.org
//! `JobPosting` JSON-LD.
//!
//! Owns: compiling the selectors (`sel@attr` syntax, one error per bad
//! key), reading each offer element's fields (text or attribute, links
//! resolved against the page URL and canonicalised, dates through
//! [`parse_date`]), the per-selector match counts `test-source` shows, and
//! merging selector items with JSON-LD ones so that each offer comes out
//! once.
//! Does not own: fetching and decoding (`fetch`, `normalise::decode`),
//! reading JSON-LD (`source::jsonld`), following pagination or detail
//! pages, the `[board]` configuration itself (`config`), deduplication
//! across fetches (the store).

use std::panic::{AssertUnwindSafe, catch_unwind};

use scraper::error::SelectorErrorKind;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::normalise::{self, canonical_url, html_to_text, parse_link, plain};
use crate::offer::{Item, contract_kind};
use crate::source::jsonld::{self, JsonLd, parse_date};

/// Longest CSS error message quoted in a [`SelectError`], in characters.
const ERROR_DETAIL_MAX_CHARS: usize = 200;

/// Compiled `[board.select]` selectors. "sel@attr" reads an attribute; without @, the element's text (whitespace-collapsed).
///
/// Every selector but `item` matches inside the item element (`:scope > a`
/// for its direct children); an empty selector before `@` (`@href`) is the
/// item element itself. The first matching element with a non-empty value is used.
#[derive(Debug, Clone)]
pub struct Selectors {
    item: Selector,
    title: Option<Field>,
    link: Option<Field>,
    company: Option<Field>,
    location: Option<Field>,
    date: Option<Field>,
}

/// One field selector: which element (`None`: the item itself) and what of
/// it (`None`: its text).
#[derive(Debug, Clone)]
struct Field {
    selector: Option<Selector>,
    attr: Option<String>,
}

/// A selector that did not compile: which key was bad and why (a CSS parse
/// error as one line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("select.{key}: {message}")]
pub struct SelectError {
    /// The `[board.select]` key: `item`, `title`, `link`, `company`,
    /// `location` or `date`.
    pub key: &'static str,
    /// Why, in one line.
    pub message: String,
}

impl Selectors {
    /// Compiles the selectors of a `[board.select]` table. `item` is a plain
    /// CSS selector (one match per offer); the others are optional and may
    /// end in `@attribute`. Every bad key is reported, not only the first.
    pub fn compile(
        item: &str,
        title: Option<&str>,
        link: Option<&str>,
        company: Option<&str>,
        location: Option<&str>,
        date: Option<&str>,
    ) -> Result<Selectors, Vec<SelectError>> {
        let mut errors = Vec::new();
        let item = match split_attr(item) {
            Ok((_, Some(_))) => {
                errors.push(SelectError {
                    key: "item",
                    message: "selects the offer elements: `@attribute` is not allowed here"
                        .to_owned(),
                });
                None
            }
            Ok(("", None)) => {
                errors.push(SelectError {
                    key: "item",
                    message: "empty selector".to_owned(),
                });
                None
            }
            Ok((css, None)) => parse_css(css)
                .map_err(|message| {
                    errors.push(SelectError {
                        key: "item",
                        message,
                    })
                })
                .ok(),
            Err(message) => {
                errors.push(SelectError {
                    key: "item",
                    message,
                });
                None
            }
        };
        let mut field = |key: &'static str, spec: Option<&str>| {
            spec.and_then(|spec| match compile_field(spec) {
                Ok(field) => Some(field),
                Err(message) => {
                    errors.push(SelectError { key, message });
                    None
                }
            })
        };
        let title = field("title", title);
        let link = field("link", link);
        let company = field("company", company);
        let location = field("location", location);
        let date = field("date", date);
        match item {
            Some(item) if errors.is_empty() => Ok(Selectors {
                item,
                title,
                link,
                company,
                location,
                date,
            }),
            _ => Err(errors),
        }
    }

    /// The configured field selectors with their keys, in a fixed order.
    fn fields(&self) -> [(&'static str, Option<&Field>); 5] {
        [
            ("title", self.title.as_ref()),
            ("link", self.link.as_ref()),
            ("company", self.company.as_ref()),
            ("location", self.location.as_ref()),
            ("date", self.date.as_ref()),
        ]
    }
}

/// Splits `sel@attr` at its last `@` outside brackets and quotes (CSS has
/// no `@` in a selector otherwise; `a[href*="@"]` keeps its own). The
/// attribute name is lower-cased, as the HTML parser stores it.
fn split_attr(spec: &str) -> Result<(&str, Option<String>), String> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut split = None;
    for (at, c) in spec.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth = depth.saturating_sub(1),
            (None, '@') if depth == 0 => split = Some(at),
            _ => {}
        }
    }
    let Some(at) = split else {
        return Ok((spec.trim(), None));
    };
    let css = spec.get(..at).unwrap_or_default().trim();
    let attr = spec.get(at + 1..).unwrap_or_default().trim();
    let valid = !attr.is_empty()
        && attr
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    if !valid {
        return Err(format!("{attr:?} after `@` is not an attribute name"));
    }
    Ok((css, Some(attr.to_lowercase())))
}

fn compile_field(spec: &str) -> Result<Field, String> {
    let (css, attr) = split_attr(spec)?;
    if css.is_empty() && attr.is_none() {
        return Err("empty selector".to_owned());
    }
    let selector = if css.is_empty() {
        None
    } else {
        Some(parse_css(css)?)
    };
    Ok(Field { selector, attr })
}

/// Parses one CSS selector, its error as one line. The parse runs under
/// `catch_unwind`: the selector comes from a config file, and a parser bug
/// on an odd selector should be a config error, not a crash.
fn parse_css(css: &str) -> Result<Selector, String> {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Selector::parse(css).map_err(|e| match e {
            // Its Display is a multi-line debug dump asking to report a bug.
            SelectorErrorKind::UnexpectedSelectorParseError(kind) => {
                format!("invalid selector ({kind:?})")
            }
            e => e.to_string(),
        })
    }));
    let message = match parsed {
        Ok(Ok(selector)) => return Ok(selector),
        Ok(Err(message)) => message,
        Err(_) => "the CSS parser crashed on this selector".to_owned(),
    };
    Err(normalise::truncate_chars(
        &format!("{:?}: {}", css, plain(&message)),
        ERROR_DETAIL_MAX_CHARS,
    ))
}

/// What a page gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageResult {
    /// Each offer once: selector items in page order (merged with their
    /// JSON-LD posting when there is one), then the other JSON-LD postings.
    pub items: Vec<Item>,
    /// elements matched by each selector, for `test-source`: ("item", 12), ("title", 12), …
    ///
    /// Only configured selectors appear, in the order item, title, link,
    /// company, location, date; a field's count adds up the elements it
    /// matched in all items (more than the item count: too broad).
    pub counts: Vec<(&'static str, usize)>,
    /// What the page's JSON-LD gave (its items are also in `items`).
    pub jsonld: JsonLd,
}

/// Decodes a fetched page (see [`normalise::decode`]) and runs [`extract`]
/// on it.
pub fn parse(
    body: &[u8],
    content_type: Option<&str>,
    base: &Url,
    selectors: Option<&Selectors>,
    company: Option<&str>,
) -> PageResult {
    extract(
        &normalise::decode(body, content_type),
        base,
        selectors,
        company,
    )
}

/// Items from a page: the selector items (when selectors are given) plus every JSON-LD JobPosting, deduplicated by URL (JSON-LD wins: it is richer).
///
/// Selector items are deduplicated among themselves by URL, and against the
/// postings; postings are not merged with each other beyond what
/// [`jsonld::extract`] does (same URL and title), since several postings
/// without a URL of their own all carry the page's.
///
/// `base` is the page's URL, against which links resolve; `company` is the
/// board's company, used when an offer names none. A selector item with
/// neither title nor link is skipped; one with a link but no title is
/// titled by its URL. Where a JSON-LD posting and a selector item share a
/// URL, the posting's fields win and the item only fills the posting's
/// gaps (a location the JSON-LD left out, say).
pub fn extract(
    html: &str,
    base: &Url,
    selectors: Option<&Selectors>,
    company: Option<&str>,
) -> PageResult {
    let doc = Html::parse_document(html);
    let jsonld = jsonld::extract(&doc, base, company);
    let mut counts = Vec::new();
    let scraped = match selectors {
        Some(selectors) => scrape(&doc, base, selectors, company, &mut counts),
        None => Vec::new(),
    };
    let mut used = vec![false; jsonld.items.len()];
    let mut items: Vec<Item> = Vec::with_capacity(scraped.len() + jsonld.items.len());
    for item in scraped {
        let posting = item.url.as_ref().and_then(|url| {
            jsonld
                .items
                .iter()
                .position(|posting| posting.url.as_ref() == Some(url))
        });
        let item = match posting {
            Some(index) => {
                let Some(slot) = used.get_mut(index) else {
                    continue;
                };
                if *slot {
                    // A second card for an offer already merged.
                    continue;
                }
                *slot = true;
                match jsonld.items.get(index) {
                    Some(posting) => merge(posting.clone(), item),
                    None => item,
                }
            }
            None => item,
        };
        let repeat = item.url.is_some() && items.iter().any(|seen| seen.url == item.url);
        if !repeat {
            items.push(item);
        }
    }
    // Postings are already unique by URL and title; two with the same URL
    // are kept apart, as postings without a URL of their own all get the
    // page's.
    for (posting, used) in jsonld.items.iter().zip(&used) {
        if !used {
            items.push(posting.clone());
        }
    }
    PageResult {
        items,
        counts,
        jsonld,
    }
}

/// `posting` with its empty fields filled from `card`.
fn merge(mut posting: Item, card: Item) -> Item {
    posting.company = posting.company.or(card.company);
    posting.location = posting.location.or(card.location);
    posting.published = posting.published.or(card.published);
    posting.contract = posting.contract.or(card.contract);
    posting
}

/// The selector items of a page, in page order, with the match counts.
fn scrape(
    doc: &Html,
    base: &Url,
    selectors: &Selectors,
    company: Option<&str>,
    counts: &mut Vec<(&'static str, usize)>,
) -> Vec<Item> {
    let mut field_counts = [0usize; 5];
    let mut items = Vec::new();
    let mut found = 0;
    for element in doc.select(&selectors.item) {
        found += 1;
        for ((_, field), count) in selectors.fields().iter().zip(field_counts.iter_mut()) {
            if let Some(field) = field {
                *count += matches(element, field).count();
            }
        }
        if let Some(item) = card_item(element, base, selectors, company) {
            items.push(item);
        }
    }
    counts.push(("item", found));
    for ((key, field), count) in selectors.fields().iter().zip(field_counts) {
        if field.is_some() {
            counts.push((key, count));
        }
    }
    items
}

/// The elements a field reads in one item.
fn matches<'a, 'b>(
    item: ElementRef<'a>,
    field: &'b Field,
) -> Box<dyn Iterator<Item = ElementRef<'a>> + 'b>
where
    'a: 'b,
{
    match &field.selector {
        Some(selector) => Box::new(item.select(selector)),
        None => Box::new(std::iter::once(item)),
    }
}

/// The first non-empty value a field gives in one item, with the element it
/// came from.
fn read<'a>(item: ElementRef<'a>, field: &Field) -> Option<(String, ElementRef<'a>)> {
    matches(item, field).find_map(|element| {
        let value = match &field.attr {
            Some(attr) => plain(element.value().attr(attr)?),
            None => text_of(element),
        };
        (!value.is_empty()).then_some((value, element))
    })
}

/// An element's readable text, as the rest of veille reads HTML: scripts
/// dropped, block elements separating words, whitespace collapsed.
fn text_of(element: ElementRef<'_>) -> String {
    html_to_text(&element.inner_html())
}

/// The item for one offer element, or `None` with neither title nor link.
fn card_item(
    element: ElementRef<'_>,
    base: &Url,
    selectors: &Selectors,
    company: Option<&str>,
) -> Option<Item> {
    let (url, link_element) = match &selectors.link {
        Some(field) => link_from_field(element, field, base),
        None => default_link(element, base),
    }
    .map_or((None, None), |(url, from)| (Some(url), Some(from)));
    let title = match &selectors.title {
        Some(field) => read(element, field).map(|(title, _)| title),
        None => link_element.map(text_of).filter(|t| !t.is_empty()),
    };
    let title = match (title, &url) {
        (Some(title), _) => title,
        // A link alone still identifies an offer (as in the feed adapter).
        (None, Some(url)) => url.clone(),
        (None, None) => return None,
    };
    let field = |field: &Option<Field>| {
        field
            .as_ref()
            .and_then(|f| read(element, f))
            .map(|(v, _)| v)
    };
    Some(Item {
        guid: None,
        contract: contract_kind(&title).map(str::to_owned),
        title,
        company: field(&selectors.company).or_else(|| company.map(plain).filter(|c| !c.is_empty())),
        location: field(&selectors.location),
        url,
        published: field(&selectors.date).as_deref().and_then(parse_date),
        summary: None,
        remote: None,
        tags: Vec::new(),
        valid_through: None,
        salary: None,
    })
}

/// The link a configured `link` selector gives: its attribute, or without
/// `@attr` the element's `href` (else its text), resolved and canonical.
fn link_from_field<'a>(
    item: ElementRef<'a>,
    field: &Field,
    base: &Url,
) -> Option<(String, ElementRef<'a>)> {
    matches(item, field).find_map(|element| {
        let href = match &field.attr {
            Some(attr) => element.value().attr(attr)?.to_owned(),
            None => element
                .value()
                .attr("href")
                .map_or_else(|| text_of(element), str::to_owned),
        };
        resolve(&href, base).map(|url| (url, element))
    })
}

/// The item's own `href` if it is a link, else its first `<a href>` that
/// leads somewhere else than this page (`#top`, `javascript:` are not).
fn default_link<'a>(item: ElementRef<'a>, base: &Url) -> Option<(String, ElementRef<'a>)> {
    // `descendants` starts with the item itself.
    item.descendants()
        .filter_map(ElementRef::wrap)
        .filter(|element| element.value().name() == "a")
        .find_map(|element| {
            let href = element.value().attr("href")?;
            resolve(href, base).map(|url| (url, element))
        })
}

/// `href` resolved against the page and canonicalised; `None` for links to
/// the page itself (a bare fragment) and non-web schemes.
fn resolve(href: &str, base: &Url) -> Option<String> {
    if href.trim().starts_with('#') {
        return None;
    }
    parse_link(href, base).map(|url| canonical_url(&url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{corpus, files_under};
    use chrono::{DateTime, TimeZone, Utc};

    /// A fixture of `tests/fixtures/pages/`, embedded at compile time (the
    /// path is relative to this file, so it works from any crate).
    macro_rules! page {
        ($name:literal) => {
            include_str!(concat!("../../tests/fixtures/pages/", $name))
        };
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("test date")
    }

    fn compile(
        item: &str,
        title: Option<&str>,
        link: Option<&str>,
        company: Option<&str>,
        location: Option<&str>,
        date: Option<&str>,
    ) -> Selectors {
        match Selectors::compile(item, title, link, company, location, date) {
            Ok(selectors) => selectors,
            Err(errors) => panic!("selectors did not compile: {errors:?}"),
        }
    }

    #[test]
    fn selectors_on_a_board_without_job_posting() {
        let selectors = compile(
            "div.featured-vacancies div.media",
            Some("h3.media-title"),
            Some("a.media-content@href"),
            Some("p.search-school-name"),
            Some("ul.media-bullets li:first-child"),
            None,
        );
        let result = extract(
            page!("jobsinschoolsnortheast_vacancies-1.html"),
            &url("https://www.jobsinschoolsnortheast.com/search-results/?jobrole=11"),
            Some(&selectors),
            None,
        );
        assert_eq!(
            result.counts,
            [
                ("item", 5),
                ("title", 5),
                ("link", 5),
                ("company", 5),
                ("location", 5)
            ]
        );
        // The page's only JSON-LD is a WebSite.
        assert_eq!((result.jsonld.blocks, result.jsonld.items.len()), (1, 0));
        assert_eq!(result.items.len(), 5, "{:#?}", result.items);
        assert_eq!(
            result.items[0],
            Item {
                guid: None,
                title: "Teacher of Year 5".to_owned(),
                company: Some("Chantry Middle School".to_owned()),
                location: Some("Northumberland".to_owned()),
                url: Some(
                    "https://www.jobsinschoolsnortheast.com/job/teacher-year-5-3/".to_owned()
                ),
                published: None,
                summary: None,
                remote: None,
                contract: None,
                tags: Vec::new(),
                valid_through: None,
                salary: None,
            }
        );
        let last = &result.items[4];
        assert_eq!(last.title, "TEACHERS OF MATHEMATICS – 2 POSTS (UPS/MPS)");
        assert_eq!(
            last.company.as_deref(),
            Some("Whitburn Church of England Academy")
        );
        // Its location bullet is empty.
        assert_eq!(last.location, None);
    }

    #[test]
    fn selectors_with_default_link_title_and_dates() {
        let selectors = compile(
            "div.base-search-card",
            None,
            None,
            Some("h4.base-search-card__subtitle"),
            Some(".job-search-card__location"),
            Some("time@datetime"),
        );
        let result = extract(
            page!("hunt_linkedin_guest_search_cards.html"),
            &url(
                "https://www.linkedin.com/jobs-guest/jobs/api/seeMoreJobPostings/search?keywords=rust",
            ),
            Some(&selectors),
            Some("unused: the cards name their company"),
        );
        assert_eq!(
            result.counts,
            [("item", 2), ("company", 2), ("location", 2), ("date", 2)]
        );
        let got: Vec<_> = result
            .items
            .iter()
            .map(|i| {
                (
                    i.title.as_str(),
                    i.company.as_deref(),
                    i.location.as_deref(),
                    i.published,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Senior Software Engineer - Rust - Core Services",
                    Some("Kraken"),
                    Some("Brazil"),
                    Some(utc(2026, 9, 15, 0, 0))
                ),
                (
                    "Senior Software Engineer - Rust - Backend - Pro",
                    Some("Kraken"),
                    Some("Brazil"),
                    Some(utc(2026, 9, 21, 0, 0))
                ),
            ]
        );
        // The first link of the card, entities decoded, query sorted
        // (LinkedIn's own tracking keys are not on the strip list).
        assert_eq!(
            result.items[0].url.as_deref(),
            Some(
                "https://br.linkedin.com/jobs/view/senior-software-engineer-rust-core-services-at-kraken-4465923787?pageNum=0&position=1&refId=TmWK2%2B5os2cAdoRyM85i2Q%3D%3D&trackingId=GGoheL850ReAr5cplbmlYw%3D%3D"
            )
        );
    }

    #[test]
    fn cards_and_json_ld_give_each_offer_once() {
        let selectors = compile(
            "article.offer-card",
            Some("h2.offer-title"),
            Some("h2.offer-title a@href"),
            Some(".offer-company"),
            Some(".offer-location"),
            Some("time@datetime"),
        );
        let result = extract(
            page!("board_cards_and_jsonld.html"),
            &url("https://emplois.example.org/offres"),
            Some(&selectors),
            None,
        );
        assert_eq!(
            result.counts,
            [
                ("item", 5),
                ("title", 4),
                ("link", 4),
                ("company", 5),
                ("location", 4),
                ("date", 4)
            ]
        );
        assert_eq!(result.jsonld.items.len(), 3);
        let urls: Vec<&str> = result
            .items
            .iter()
            .filter_map(|i| i.url.as_deref())
            .collect();
        assert_eq!(
            urls,
            [
                "https://emplois.example.org/emplois/101",
                "https://emplois.example.org/emplois/102",
                "https://emplois.example.org/emplois/103",
                "https://emplois.example.org/emplois/104",
            ]
        );
        // 101: the JSON-LD posting, whole (the featured and the listed card
        // are the same offer).
        assert_eq!(result.items[0], result.jsonld.items[0]);
        assert_eq!(
            result.items[0].location.as_deref(),
            Some("Nantes, Pays de la Loire, FR")
        );
        // 102: the posting, its missing location filled from the card.
        let second = &result.items[1];
        assert_eq!(second.guid.as_deref(), Some("102"));
        assert_eq!(second.contract.as_deref(), Some("apprenticeship"));
        assert_eq!(second.location.as_deref(), Some("Rennes (35)"));
        assert_eq!(second.published, Some(utc(2026, 11, 17, 0, 0)));
        // 103: only a card.
        let third = &result.items[2];
        assert_eq!(third.title, "Stage chef·fe de projet");
        assert_eq!(third.company.as_deref(), Some("Ville de Rezé"));
        assert_eq!(third.contract.as_deref(), Some("internship"));
        assert_eq!(third.published, Some(utc(2026, 11, 16, 14, 30)));
        assert_eq!(third.guid, None);
        // 104: only JSON-LD.
        assert_eq!(result.items[3].remote, Some(true));

        // Without selectors, the JSON-LD alone.
        let result = extract(
            page!("board_cards_and_jsonld.html"),
            &url("https://emplois.example.org/offres"),
            None,
            None,
        );
        assert!(result.counts.is_empty());
        assert_eq!(result.items, result.jsonld.items);
    }

    #[test]
    fn link_forms_and_company_fallback() {
        let html = r##"<ul>
            <li class="job"><a href="#top">skip</a><a href="javascript:void(0)">js</a><a href="/j/1">One</a></li>
            <a class="job" href="/j/2"><b>Two</b></a>
            <li class="job"><span data-href="/j/3">Three</span></li>
            <li class="job"><span class="u">https://other.example/j/4</span><span class="t">Four</span></li>
            <li class="job"><a href="mailto:hr@x.example"></a></li>
        </ul>"##;
        let base = url("https://x.example/jobs/");
        let default = compile(".job", None, None, None, None, None);
        let result = extract(html, &base, Some(&default), Some("  Board  Co "));
        let got: Vec<(&str, Option<&str>)> = result
            .items
            .iter()
            .map(|i| (i.title.as_str(), i.url.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("One", Some("https://x.example/j/1")),
                ("Two", Some("https://x.example/j/2"))
            ]
        );
        assert!(
            result
                .items
                .iter()
                .all(|i| i.company.as_deref() == Some("Board Co"))
        );

        let attr = compile(
            ".job",
            Some(".t"),
            Some("[data-href]@data-href"),
            None,
            None,
            None,
        );
        let result = extract(html, &base, Some(&attr), None);
        let got: Vec<(&str, Option<&str>)> = result
            .items
            .iter()
            .map(|i| (i.title.as_str(), i.url.as_deref()))
            .collect();
        // A link without a title is titled by its URL; a title without a link is kept.
        assert_eq!(
            got,
            [
                ("https://x.example/j/3", Some("https://x.example/j/3")),
                ("Four", None)
            ]
        );

        // A link selector without `@`: the element's href, else its text;
        // the first element that gives a web link.
        for (link, expected) in [
            ("a", "https://x.example/j/1"),
            ("span.u", "https://other.example/j/4"),
        ] {
            let selectors = compile(".job", None, Some(link), None, None, None);
            let result = extract(html, &base, Some(&selectors), None);
            let urls: Vec<Option<&str>> = result.items.iter().map(|i| i.url.as_deref()).collect();
            assert_eq!(urls, [Some(expected)], "{link}");
        }

        // `@href` alone reads the item itself.
        let own = compile("a.job", Some("b"), Some("@href"), None, None, None);
        let result = extract(html, &base, Some(&own), None);
        assert_eq!(result.counts, [("item", 1), ("title", 1), ("link", 1)]);
        assert_eq!(
            result.items[0].url.as_deref(),
            Some("https://x.example/j/2")
        );
    }

    #[test]
    fn postings_without_url_are_not_collapsed() {
        let html = r#"<script type="application/ld+json">[
            {"@type": "JobPosting", "title": "Cuisinier"},
            {"@type": "JobPosting", "title": "Plongeur"},
            {"@type": "JobPosting", "title": "Plongeur"}
        ]</script>"#;
        let result = extract(html, &url("https://resto.example/recrute"), None, None);
        let got: Vec<(&str, Option<&str>)> = result
            .items
            .iter()
            .map(|i| (i.title.as_str(), i.url.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("Cuisinier", Some("https://resto.example/recrute")),
                ("Plongeur", Some("https://resto.example/recrute"))
            ]
        );
    }

    #[test]
    fn bad_selectors_name_their_key() {
        let errors = match Selectors::compile(
            "div..card",
            Some("h2"),
            Some("a@"),
            Some("p!"),
            None,
            Some("time@date time"),
        ) {
            Ok(_) => panic!("bad selectors compiled"),
            Err(errors) => errors,
        };
        let keys: Vec<&str> = errors.iter().map(|e| e.key).collect();
        assert_eq!(keys, ["item", "link", "company", "date"]);
        for error in &errors {
            assert!(
                !error.message.is_empty() && !error.message.contains('\n'),
                "{error}"
            );
        }
        assert!(
            errors[0].message.starts_with("\"div..card\": "),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].to_string().starts_with("select.item: "),
            "{}",
            errors[0]
        );

        let only_item = |item: &str| {
            Selectors::compile(item, None, None, None, None, None)
                .err()
                .unwrap_or_default()
        };
        assert_eq!(only_item("li@href").first().map(|e| e.key), Some("item"));
        assert_eq!(only_item("  ").first().map(|e| e.key), Some("item"));
        assert_eq!(only_item(":not(").first().map(|e| e.key), Some("item"));
        assert_eq!(
            only_item("li:unknown-pseudo").first().map(|e| e.key),
            Some("item")
        );
        assert!(Selectors::compile("li", Some(""), None, None, None, None).is_err());
        // An `@` inside brackets or quotes belongs to the CSS.
        assert!(
            Selectors::compile("li", None, Some(r#"a[href*="@"]@href"#), None, None, None).is_ok()
        );
        assert_eq!(
            split_attr(r#"a[title='a@b'] @ HREF"#),
            Ok((r#"a[title='a@b']"#, Some("href".to_owned())))
        );
    }

    #[test]
    fn real_job_pages_through_the_page_adapter() {
        for (html, title) in [
            (
                page!("fr_linkedin_jobposting_analytics_engineer_lille.html"),
                "Analytics Engineer - Microsoft Fabric - CDI - LILLE",
            ),
            (
                page!("fr_welcometothejungle_jobposting_conseiller_clientele.html"),
                "Conseiller clientèle H/F CDD",
            ),
        ] {
            let result = parse(
                html.as_bytes(),
                Some("text/html; charset=utf-8"),
                &url("https://jobs.example.org/o/1"),
                None,
                None,
            );
            let titles: Vec<&str> = result.items.iter().map(|i| i.title.as_str()).collect();
            assert_eq!(titles, [title]);
        }
    }

    #[test]
    fn sweep_corpus_never_panics() {
        let dir = corpus().join("jobposting-html");
        if !dir.is_dir() {
            return;
        }
        let selectors = compile(
            "li, div.media, article",
            Some("h3"),
            None,
            Some("h4, p"),
            Some("li"),
            Some("time@datetime"),
        );
        let base = url("https://board.example.org/jobs?page=1");
        let mut seen = 0;
        for path in files_under(&dir) {
            let Ok(body) = std::fs::read(&path) else {
                continue;
            };
            seen += 1;
            // Any outcome is fine; a panic fails the test.
            let _ = parse(&body, None, &base, None, None);
            let _ = parse(
                &body,
                Some("text/html; charset=windows-1252"),
                &base,
                Some(&selectors),
                Some("Co"),
            );
        }
        assert!(seen >= 16, "only {seen} corpus files");
    }

    proptest::proptest! {
        #[test]
        fn extract_never_panics(html in "(<script type=\"application/ld\\+json\">|</script>|<li>|<a href=\"[a-z:/#.]{0,8}\">|</a>|<time datetime=\"[0-9/:. -]{0,12}\">|\\{\"@type\":\"JobPosting\"|\"title\":|\"url\":|\\[|\\]|\\{|\\}|,|\"[a-zé \\\\]{0,6}\"|<!--|-->|//|/\\*|[a-z0-9 @<>&\"'\n]){0,60}") {
            let selectors = compile("li", None, None, Some("b"), None, Some("time@datetime"));
            let result = extract(&html, &url("https://x.example/"), Some(&selectors), None);
            proptest::prop_assert!(result.jsonld.broken.len() <= result.jsonld.blocks);
        }

        #[test]
        fn parse_date_never_panics(text in "\\PC{0,40}") {
            let _ = parse_date(&text);
        }
    }
}
