//! schema.org `JobPosting` extraction from the JSON-LD blocks of an HTML
//! page, and the lenient date parser the page adapters share.
//!
//! Owns: finding `<script type="application/ld+json">` blocks, reading them
//! leniently (HTML comment and CDATA wrappers, JavaScript comments, raw
//! control characters in strings, trailing commas and trailing garbage are
//! tolerated; a block that still does not parse is reported and skipped),
//! finding the `JobPosting` nodes at any reasonable depth (`@graph`, arrays,
//! `mainEntity`, `ItemList` → `ListItem` → `item`…) and mapping them to
//! [`Item`]s; and [`parse_date`].
//! Does not own: fetching or decoding the page (`normalise::decode`), CSS
//! selector scraping and merging with selector items (`source::page`),
//! microdata or RDFa, offer identity and deduplication across fetches (the
//! store).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use scraper::{ElementRef, Html};
use serde_json::{Map, Value};
use url::Url;

use crate::normalise::{canonical_url, html_to_text, parse_link, plain, truncate_chars};
use crate::offer::{Item, Salary, contract_kind};

/// Longest summary kept, in characters (as in the feed adapter).
pub const SUMMARY_MAX_CHARS: usize = 4000;

/// How deep [`extract`] looks for `JobPosting` nodes inside one block. Real
/// pages nest them three or four levels down (`@graph` → `ItemList` →
/// `ListItem` → `item`); the limit only stops hostile nesting from costing
/// time (serde_json already refuses nesting deep enough to hurt the stack).
const MAX_DEPTH: usize = 16;

/// Longest parser message quoted in [`JsonLd::broken`], in characters.
const ERROR_DETAIL_MAX_CHARS: usize = 200;

/// What the JSON-LD blocks of a page gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonLd {
    /// One item per `JobPosting` node that has a title, in document order,
    /// exact repeats (same URL and title) dropped.
    pub items: Vec<Item>,
    /// JSON-LD blocks seen
    pub blocks: usize,
    /// one line per block skipped as broken JSON ("block 2: expected `,` at line 3 column 5")
    pub broken: Vec<String>,
}

/// Reads every JSON-LD block of `doc` and maps each schema.org `JobPosting`
/// in them to an [`Item`]. `base` is the page's URL: relative URLs resolve
/// against it, and it is the item's URL when the posting gives none (a job
/// page describing itself). `company` is used when the posting names no
/// hiring organisation.
pub fn extract(doc: &Html, base: &Url, company: Option<&str>) -> JsonLd {
    let mut out = JsonLd::default();
    let scripts = doc
        .tree
        .nodes()
        .filter_map(ElementRef::wrap)
        .filter(|element| {
            element.value().name() == "script" && is_json_ld(element.value().attr("type"))
        });
    for script in scripts {
        out.blocks += 1;
        let text: String = script.text().collect();
        let value = match parse_block(&text) {
            Ok(value) => value,
            Err(message) => {
                out.broken.push(format!("block {}: {message}", out.blocks));
                continue;
            }
        };
        let mut postings = Vec::new();
        find_postings(&value, 0, &mut postings);
        for posting in postings {
            let Some(item) = posting_item(posting, base, company) else {
                continue;
            };
            let repeat = out
                .items
                .iter()
                .any(|seen| seen.url == item.url && seen.title == item.title);
            if !repeat {
                out.items.push(item);
            }
        }
    }
    out
}

/// Whether a `<script>` `type` names JSON-LD: case-insensitive, parameters
/// (`; charset=utf-8`) and surrounding whitespace ignored.
fn is_json_ld(script_type: Option<&str>) -> bool {
    script_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/ld+json"))
    })
}

/// The JSON of one block: as is if it is valid, else after [`clean`]; the
/// error is the first attempt's, whose line and column match the page.
fn parse_block(text: &str) -> Result<Value, String> {
    let first = match serde_json::from_str::<Value>(text) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let cleaned = clean(text);
    // Several values in a row (or one followed by garbage such as `;`):
    // everything up to the first error is kept.
    let mut values: Vec<Value> = serde_json::Deserializer::from_str(&cleaned)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect();
    match values.len() {
        0 => Err(truncate_chars(
            &plain(&first.to_string()),
            ERROR_DETAIL_MAX_CHARS,
        )),
        1 => Ok(values.pop().unwrap_or(Value::Null)),
        _ => Ok(Value::Array(values)),
    }
}

/// `text` with what real pages wrap around or put inside their JSON-LD made
/// valid: outside strings, HTML comment and CDATA markers, JavaScript
/// comments and trailing commas are dropped, and anything before the first
/// `{`/`[` is dropped; inside strings, raw control characters are escaped
/// and escapes JSON does not know (`\'`) lose their backslash.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((at, c)) = chars.next() {
        if in_string {
            match c {
                '"' => {
                    in_string = false;
                    out.push(c);
                }
                '\\' => match chars.peek().map(|&(_, next)| next) {
                    Some(next @ ('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | 'u')) => {
                        out.push('\\');
                        out.push(next);
                        chars.next();
                    }
                    // `\'`, `\x`…: the character stands for itself.
                    Some(_) => {}
                    None => out.push_str("\\\\"),
                },
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() && u32::from(c) < 0x20 => {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
                c => out.push(c),
            }
            continue;
        }
        let tail = text.get(at..).unwrap_or_default();
        let skip = if tail.starts_with("<!--") || tail.starts_with("-->") {
            Some(if tail.starts_with("<!--") { 4 } else { 3 })
        } else if tail.starts_with("<![CDATA[") {
            Some(9)
        } else if tail.starts_with("]]>") {
            Some(3)
        } else if tail.starts_with("//") {
            Some(tail.find('\n').unwrap_or(tail.len()))
        } else if tail.starts_with("/*") {
            Some(tail.find("*/").map_or(tail.len(), |end| end + 2))
        } else {
            None
        };
        if let Some(len) = skip {
            // Skip the text of the marker or comment (its first character
            // is the current one).
            while chars.peek().is_some_and(|&(next, _)| next < at + len) {
                chars.next();
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '}' | ']' => {
                let kept = out.trim_end().len();
                out.truncate(kept);
                if out.ends_with(',') {
                    out.pop();
                }
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // Only now: `<![CDATA[` has a `[` of its own.
    match out.find(['{', '[']) {
        Some(start) => out.split_off(start),
        None => out,
    }
}

/// Collects the `JobPosting` objects in `value`, in document order. A
/// posting is not searched further (what it contains describes it); any
/// other object or array is, whatever the key (`@graph`, `mainEntity`,
/// `itemListElement`, `item`, `hasPart`…), up to [`MAX_DEPTH`].
fn find_postings<'v>(value: &'v Value, depth: usize, out: &mut Vec<&'v Map<String, Value>>) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Array(values) => {
            for value in values {
                find_postings(value, depth + 1, out);
            }
        }
        Value::Object(object) if is_job_posting(object) => out.push(object),
        Value::Object(object) => {
            for value in object.values() {
                find_postings(value, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Whether an object's `@type` (a string or an array of them, possibly a
/// full IRI or prefixed: `schema:JobPosting`) is `JobPosting`.
fn is_job_posting(object: &Map<String, Value>) -> bool {
    let is = |t: &Value| {
        t.as_str().is_some_and(|t| {
            t.trim()
                .rsplit(['/', ':', '#'])
                .next()
                .is_some_and(|name| name.eq_ignore_ascii_case("JobPosting"))
        })
    };
    match object.get("@type") {
        Some(Value::Array(types)) => types.iter().any(is),
        Some(t) => is(t),
        None => false,
    }
}

/// The item for one posting, or `None` when it has no title.
fn posting_item(posting: &Map<String, Value>, base: &Url, company: Option<&str>) -> Option<Item> {
    let title = ["title", "name"]
        .iter()
        .find_map(|key| posting.get(*key).and_then(text))?;
    let url = ["url", "sameAs"]
        .iter()
        .filter_map(|key| posting.get(*key))
        .flat_map(one_or_many)
        .filter_map(Value::as_str)
        .find_map(|href| parse_link(href, base))
        .unwrap_or_else(|| base.clone());
    let url = canonical_url(&url);
    let guid = posting
        .get("identifier")
        .and_then(identifier)
        .unwrap_or_else(|| url.clone());
    let company = posting
        .get("hiringOrganization")
        .and_then(organisation_name)
        .or_else(|| company.map(plain).filter(|c| !c.is_empty()));
    let remote = posting
        .get("jobLocationType")
        .is_some_and(|t| one_or_many(t).filter_map(Value::as_str).any(is_telecommute))
        .then_some(true);
    let location = posting.get("jobLocation").and_then(locations).or_else(|| {
        // A remote posting often has no place, only where applicants may
        // live: that is the location a reader wants.
        remote
            .and(posting.get("applicantLocationRequirements"))
            .and_then(locations)
    });
    let summary = posting
        .get("description")
        .and_then(Value::as_str)
        .map(description_text)
        .filter(|s| !s.is_empty())
        .map(|s| truncate_chars(&s, SUMMARY_MAX_CHARS));
    let mut tags: Vec<String> = Vec::new();
    for tag in ["industry", "occupationalCategory"]
        .iter()
        .filter_map(|key| posting.get(*key))
        .flat_map(one_or_many)
        .filter_map(Value::as_str)
        .map(html_to_text)
    {
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Some(Item {
        guid: Some(guid),
        contract: contract(posting.get("employmentType"), &title).map(str::to_owned),
        title,
        company,
        location,
        url: Some(url),
        published: posting
            .get("datePosted")
            .and_then(Value::as_str)
            .and_then(parse_date),
        summary,
        remote,
        tags,
        valid_through: posting
            .get("validThrough")
            .and_then(Value::as_str)
            .and_then(parse_date),
        salary: posting.get("baseSalary").and_then(|salary| {
            let currency = posting.get("salaryCurrency").and_then(Value::as_str);
            base_salary(salary, currency)
        }),
    })
}

/// The elements of an array, or the value itself.
fn one_or_many(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Array(values) => Box::new(values.iter()),
        value => Box::new(std::iter::once(value)),
    }
}

/// Plain text of a textual value: a string (HTML and entities allowed, as
/// sites escape titles inconsistently), a number, a language-tagged
/// `{"@value": …}`, or the first of an array that gives one. `None` when
/// empty.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(html_to_text(s)).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(values) => values.iter().find_map(text),
        Value::Object(object) => object.get("@value").and_then(text),
        _ => None,
    }
}

/// The posting's own identifier: a string, a number, or a `PropertyValue`'s
/// `value` (its `name` is the issuer, not an identity). The first usable one
/// of an array.
fn identifier(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(plain(s)).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(values) => values.iter().find_map(identifier),
        Value::Object(object) => object
            .get("value")
            .or_else(|| object.get("@value"))
            .filter(|v| !v.is_object())
            .and_then(identifier),
        _ => None,
    }
}

/// `hiringOrganization` as a name: a string, or an `Organization`'s `name`;
/// the first of an array.
fn organisation_name(value: &Value) -> Option<String> {
    match value {
        Value::Object(object) => object.get("name").and_then(text),
        Value::Array(values) => values.iter().find_map(organisation_name),
        value => text(value),
    }
}

fn is_telecommute(t: &str) -> bool {
    t.trim()
        .rsplit(['/', ':'])
        .next()
        .is_some_and(|t| t.eq_ignore_ascii_case("TELECOMMUTE"))
}

/// One or several `Place`s, `PostalAddress`es, areas (`Country`, `State`…)
/// or strings, each as "locality, region, country", joined with "; ",
/// repeats dropped.
fn locations(value: &Value) -> Option<String> {
    let mut found: Vec<String> = Vec::new();
    for place in one_or_many(value) {
        let Some(location) = place_text(place, 0) else {
            continue;
        };
        if !found
            .iter()
            .any(|seen| seen.eq_ignore_ascii_case(&location))
        {
            found.push(location);
        }
    }
    (!found.is_empty()).then(|| found.join("; "))
}

/// One place as text: its address's locality, region and country, else the
/// address as a string, else its own name.
fn place_text(value: &Value, depth: usize) -> Option<String> {
    match value {
        Value::String(_) | Value::Number(_) => text(value),
        Value::Array(values) if depth < 2 => values.iter().find_map(|v| place_text(v, depth + 1)),
        Value::Object(object) => {
            let mut parts: Vec<String> = Vec::new();
            for key in ["addressLocality", "addressRegion", "addressCountry"] {
                let Some(part) = object.get(key).and_then(|v| match v {
                    Value::Object(country) => country.get("name").and_then(text),
                    v => text(v),
                }) else {
                    continue;
                };
                // "Paris, Paris, FR": a region named like its city adds nothing.
                if !parts.iter().any(|p| p.eq_ignore_ascii_case(&part)) {
                    parts.push(part);
                }
            }
            if !parts.is_empty() {
                return Some(parts.join(", "));
            }
            let address = (depth < 2)
                .then(|| object.get("address").and_then(|a| place_text(a, depth + 1)))
                .flatten();
            address.or_else(|| object.get("name").and_then(text))
        }
        _ => None,
    }
}

/// The contract kind: from `employmentType` (the first recognised value of
/// a string or array), else from the title. One exception: the schema.org
/// values `FULL_TIME` and `TEMPORARY` say how long, not which contract, and
/// French boards put `FULL_TIME` on internships and `TEMPORARY` on CDDs;
/// when the title names a different kind, the title's is the precise one.
fn contract(employment_type: Option<&Value>, title: &str) -> Option<&'static str> {
    let from_title = contract_kind(title);
    let declared = employment_type
        .into_iter()
        .flat_map(one_or_many)
        .filter_map(Value::as_str)
        .find_map(|t| contract_kind(t).map(|kind| (t, kind)));
    match declared {
        Some((t, kind)) => {
            let generic = ["FULL_TIME", "FULLTIME", "FULL-TIME", "TEMPORARY"]
                .iter()
                .any(|g| t.trim().eq_ignore_ascii_case(g));
            match from_title {
                Some(precise) if generic && precise != kind => Some(precise),
                _ => Some(kind),
            }
        }
        None => from_title,
    }
}

/// `baseSalary` as a [`Salary`]: a number (or numeric string), or a
/// `MonetaryAmount` whose `value` is a number or a `QuantitativeValue`
/// (`value`, or `minValue`/`maxValue`, and `unitText`); the first of an
/// array. `salary_currency` is the posting's own `salaryCurrency`, used when
/// the amount names none. `None` when no amount is found.
fn base_salary(value: &Value, salary_currency: Option<&str>) -> Option<Salary> {
    let currency_of = |object: Option<&Map<String, Value>>| {
        object
            .and_then(|o| o.get("currency"))
            .and_then(Value::as_str)
            .or(salary_currency)
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
    };
    let salary = match value {
        Value::Array(values) => return values.iter().find_map(|v| base_salary(v, salary_currency)),
        Value::Object(amount) => {
            let unit = |object: &Map<String, Value>| {
                object
                    .get("unitText")
                    .and_then(Value::as_str)
                    .and_then(period)
            };
            match amount.get("value") {
                Some(Value::Object(quantity)) => {
                    let exact = quantity.get("value").and_then(number);
                    Salary {
                        min: quantity.get("minValue").and_then(number).or(exact),
                        max: quantity.get("maxValue").and_then(number).or(exact),
                        currency: currency_of(Some(amount)),
                        period: unit(quantity).or_else(|| unit(amount)),
                    }
                }
                Some(v) => {
                    let exact = number(v);
                    Salary {
                        min: exact,
                        max: exact,
                        currency: currency_of(Some(amount)),
                        period: unit(amount),
                    }
                }
                // Some sites put minValue/maxValue on the amount itself.
                None => Salary {
                    min: amount.get("minValue").and_then(number),
                    max: amount.get("maxValue").and_then(number),
                    currency: currency_of(Some(amount)),
                    period: unit(amount),
                },
            }
        }
        v => {
            let exact = number(v);
            Salary {
                min: exact,
                max: exact,
                currency: currency_of(None),
                period: None,
            }
        }
    };
    (salary.min.is_some() || salary.max.is_some()).then_some(salary)
}

/// A finite number from a JSON number or a numeric string (`"45000"`,
/// `"2 095,50"`, `"45,000.00"`).
fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => {
            let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            let s = if s.contains('.') {
                s.replace(',', "")
            } else {
                s.replace(',', ".")
            };
            s.parse::<f64>().ok()?
        }
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A `unitText` as a [`Salary::period`], English or French.
fn period(unit: &str) -> Option<String> {
    let unit = crate::matcher::fold(unit.trim());
    let period = match unit.as_str() {
        "hour" | "hourly" | "heure" | "horaire" => "hour",
        "day" | "daily" | "jour" | "journalier" => "day",
        "week" | "weekly" | "semaine" | "hebdomadaire" => "week",
        "month" | "monthly" | "mois" | "mensuel" => "month",
        "year" | "yearly" | "annual" | "annually" | "annum" | "an" | "annee" | "annuel" => "year",
        _ => return None,
    };
    Some(period.to_owned())
}

/// Plain text of a `description`. Many sites entity-escape the HTML
/// (`&lt;p&gt;…`), so text that still holds tags after one pass is read a
/// second time.
fn description_text(html: &str) -> String {
    let text = html_to_text(html);
    if html.contains("&lt;") && looks_like_markup(&text) {
        html_to_text(&text)
    } else {
        text
    }
}

/// Whether `text` contains something shaped like a tag: `<` then a letter,
/// `/` or `!`, and a later `>`.
fn looks_like_markup(text: &str) -> bool {
    text.match_indices('<').any(|(at, _)| {
        let rest = text.get(at + 1..).unwrap_or_default();
        rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!')
            && rest.contains('>')
    })
}

/// Parses a date as job pages write it: RFC 3339, ISO 8601 without a zone
/// (taken as UTC) or with a `+hhmm` offset, a date alone (`2026-11-19`,
/// midnight UTC), RFC 2822, and the day-first French and German forms
/// `19/11/2026`, `19/11/2026 14:30`, `19.11.2026`, `19-11-2026`. `None` for
/// anything else.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(date) = DateTime::parse_from_rfc3339(s) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_rfc2822(s) {
        return Some(date.with_timezone(&Utc));
    }
    const ZONED: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M%z",
    ];
    for format in ZONED {
        if let Ok(date) = DateTime::parse_from_str(s, format) {
            return Some(date.with_timezone(&Utc));
        }
    }
    // A trailing `Z` after a form RFC 3339 rejects (no seconds) means UTC,
    // like no zone at all.
    let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s).trim_end();
    const NAIVE: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y à %H:%M",
        "%d/%m/%Y %Hh%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
        "%d-%m-%Y %H:%M",
    ];
    for format in NAIVE {
        if let Ok(date) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(date.and_utc());
        }
    }
    const DATES: &[&str] = &["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d"];
    for format in DATES {
        if let Ok(date) = NaiveDate::parse_from_str(naive, format) {
            return date.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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

    fn run(html: &str, page_url: &str, company: Option<&str>) -> JsonLd {
        extract(&Html::parse_document(html), &url(page_url), company)
    }

    fn only(ld: &JsonLd) -> &Item {
        assert_eq!(ld.items.len(), 1, "{:#?}", ld.items);
        &ld.items[0]
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("test date")
    }

    fn salary(min: f64, max: f64, currency: &str, period: Option<&str>) -> Option<Salary> {
        Some(Salary {
            min: Some(min),
            max: Some(max),
            currency: Some(currency.to_owned()),
            period: period.map(str::to_owned),
        })
    }

    #[test]
    fn real_page_linkedin_analytics_engineer() {
        let page_url =
            "https://fr.linkedin.com/jobs/view/analytics-engineer-4290000000?trk=public_jobs";
        let ld = run(
            page!("fr_linkedin_jobposting_analytics_engineer_lille.html"),
            page_url,
            None,
        );
        assert_eq!((ld.blocks, ld.broken.len()), (1, 0));
        let item = only(&ld);
        assert_eq!(
            item.title,
            "Analytics Engineer - Microsoft Fabric - CDI - LILLE"
        );
        assert_eq!(item.company.as_deref(), Some("Logical Conseils"));
        // addressRegion and streetAddress are null.
        assert_eq!(item.location.as_deref(), Some("Lille et périphérie, FR"));
        assert_eq!(item.contract.as_deref(), Some("cdi"));
        // No url in the posting: the page itself, canonical.
        let canonical =
            "https://fr.linkedin.com/jobs/view/analytics-engineer-4290000000?trk=public_jobs";
        assert_eq!(item.url.as_deref(), Some(canonical));
        // The identifier is a PropertyValue with a name and no value.
        assert_eq!(item.guid.as_deref(), Some(canonical));
        assert_eq!(item.published, Some(utc(2026, 7, 15, 9, 20, 36)));
        assert_eq!(item.valid_through, Some(utc(2026, 9, 1, 15, 16, 5)));
        assert_eq!(item.tags, ["Technologies et services de l’information"]);
        assert_eq!((item.remote, item.salary.as_ref()), (None, None));
        // The description is entity-escaped HTML, `&amp;amp;` included.
        let summary = item.summary.as_deref().unwrap_or_default();
        assert!(summary.starts_with("Nous recherchons un(e) Analytics Engineer expérimenté(e), maîtrisant Microsoft Fabric,"), "{summary}");
        assert!(summary.contains("Pôle Data Analytics & IA"), "{summary}");
        assert!(
            !summary.contains('<') && !summary.contains("&amp;") && !summary.contains("&lt;"),
            "{summary}"
        );
        assert!(summary.chars().count() <= SUMMARY_MAX_CHARS);
    }

    #[test]
    fn real_page_welcome_to_the_jungle_cdd() {
        let page_url = "https://www.welcometothejungle.com/fr/companies/kinougarde/jobs/conseiller-clientele-h-f-cdd_angers";
        let ld = run(
            page!("fr_welcometothejungle_jobposting_conseiller_clientele.html"),
            page_url,
            None,
        );
        let item = only(&ld);
        assert_eq!(item.title, "Conseiller clientèle H/F CDD");
        assert_eq!(
            item.company.as_deref(),
            Some("GROUPE EPIKTET \"KINOUGARDE, COMPLETUDE, MÔMJI\"")
        );
        assert_eq!(item.location.as_deref(), Some("Angers, Maine-et-Loire, FR"));
        // employmentType TEMPORARY is schema.org's word for a CDD; the title
        // says which.
        assert_eq!(item.contract.as_deref(), Some("cdd"));
        assert_eq!(item.salary, salary(2095.0, 2295.0, "EUR", Some("month")));
        assert_eq!(item.published, Some(utc(2026, 7, 22, 22, 1, 13)));
        assert_eq!(item.valid_through, Some(utc(2026, 10, 20, 22, 1, 13)));
        assert_eq!(item.tags, ["Logiciels, Education, Services à la personne"]);
        let summary = item.summary.as_deref().unwrap_or_default();
        assert!(
            summary
                .starts_with("Company Description Vous souhaitez retrouver des valeurs humaines?"),
            "{summary}"
        );
        assert!(
            summary.contains("pris en charge par l'entreprise"),
            "{summary}"
        );
    }

    #[test]
    fn graph_with_string_organisation_remote_and_salary_range() {
        let ld = run(
            page!("jsonld_graph_remote.html"),
            "https://carrieres.example.org/offres/42",
            Some("Board name"),
        );
        let item = only(&ld);
        assert_eq!(
            item,
            &Item {
                guid: Some("FN-2026-042".to_owned()),
                title: "Développeur·se Rust (télétravail)".to_owned(),
                company: Some("Ferronnerie Numérique".to_owned()),
                // No jobLocation: where applicants may be.
                location: Some("France".to_owned()),
                url: Some("https://carrieres.example.org/offres/42".to_owned()),
                published: Some(utc(2026, 11, 19, 0, 0, 0)),
                summary: Some(
                    "Nous cherchons un·e développeur·se Rust pour notre moteur de planification. 100 % télétravail R&D"
                        .to_owned()
                ),
                remote: Some(true),
                contract: Some("cdi".to_owned()),
                tags: vec!["Logiciel".to_owned(), "15-1252.00 Software Developers".to_owned()],
                valid_through: Some(utc(2026, 12, 31, 22, 59, 0)),
                salary: salary(45000.0, 55000.0, "EUR", Some("year")),
            }
        );
    }

    #[test]
    fn top_level_array_several_locations_and_company_fallback() {
        let ld = run(
            page!("jsonld_array_locations.html"),
            "https://atelier-lumiere.example.com/jobs",
            Some("Atelier Lumière (board)"),
        );
        assert_eq!(ld.items.len(), 2, "{:#?}", ld.items);
        let first = &ld.items[0];
        assert_eq!(first.title, "Technicien·ne de maintenance & SAV");
        assert_eq!(first.guid.as_deref(), Some("1234"));
        assert_eq!(first.company.as_deref(), Some("Atelier Lumière"));
        // Three places, one of them repeated; a country given as an object.
        assert_eq!(
            first.location.as_deref(),
            Some("Lyon, Auvergne-Rhône-Alpes, FR; Grenoble, France")
        );
        // PART_TIME names no contract; TEMPORARY does.
        assert_eq!(first.contract.as_deref(), Some("temporary"));
        assert_eq!(first.salary, salary(18.5, 18.5, "EUR", Some("hour")));
        // ISO 8601 without a zone is UTC.
        assert_eq!(first.published, Some(utc(2026, 11, 2, 8, 0, 0)));
        assert_eq!(first.remote, None);

        let second = &ld.items[1];
        assert_eq!(second.title, "Stage assistant·e marketing");
        assert_eq!(
            second.guid.as_deref(),
            Some("https://atelier-lumiere.example.com/jobs/1240")
        );
        assert_eq!(second.company.as_deref(), Some("Atelier Lumière (board)"));
        assert_eq!(second.location.as_deref(), Some("Villeurbanne, FR"));
        assert_eq!(second.contract.as_deref(), Some("internship"));
        // A bare amount with the posting's salaryCurrency.
        assert_eq!(second.salary, salary(1200.0, 1200.0, "EUR", None));
        assert_eq!(second.published, Some(utc(2026, 11, 19, 0, 0, 0)));
    }

    #[test]
    fn item_list_nested_under_main_entity() {
        let ld = run(
            page!("jsonld_itemlist.html"),
            "https://jobs.example.net/",
            None,
        );
        let titles: Vec<&str> = ld.items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Platform Engineer", "Data Analyst (contract)"]);
        let first = &ld.items[0];
        assert_eq!(
            first.url.as_deref(),
            Some("https://jobs.example.net/p/platform-engineer")
        );
        assert_eq!(first.company.as_deref(), Some("Northwind Labs"));
        assert_eq!(first.location.as_deref(), Some("Berlin, DE"));
        assert_eq!(first.contract.as_deref(), Some("cdi"));
        assert_eq!(first.published, Some(utc(2026, 10, 30, 10, 15, 0)));
        // Whatever `contract_kind` makes of CONTRACTOR: this adapter passes it on.
        assert_eq!(ld.items[1].contract.as_deref(), contract_kind("CONTRACTOR"));
        assert_eq!(ld.items[1].location.as_deref(), Some("Hamburg, DE"));
    }

    #[test]
    fn broken_block_is_listed_and_the_good_one_still_read() {
        let ld = run(
            page!("jsonld_broken_and_good.html"),
            "https://recrutement.example.fr/offres",
            None,
        );
        // The `application/json` script is not JSON-LD.
        assert_eq!(ld.blocks, 2);
        assert_eq!(ld.broken.len(), 1, "{:?}", ld.broken);
        assert!(
            ld.broken[0].starts_with("block 1: expected `,` or `}` at line 3 column 3"),
            "{:?}",
            ld.broken
        );
        // The second block: HTML comment + CDATA wrapper, a JS comment, raw
        // newline and tab in a string, `\'`, a trailing comma and a `;`.
        let item = only(&ld);
        assert_eq!(item.title, "Chargé·e de recrutement (CDD 6 mois)");
        assert_eq!(
            item.url.as_deref(),
            Some("https://recrutement.example.fr/offres/2")
        );
        assert_eq!(item.company.as_deref(), Some("Mairie d'Exemple-sur-Loire"));
        assert_eq!(item.location.as_deref(), Some("Exemple-sur-Loire, FR"));
        assert_eq!(
            item.summary.as_deref(),
            Some("Première ligne deuxième ligne, l'équipe RH")
        );
        assert_eq!(item.contract.as_deref(), Some("cdd"));
        assert_eq!(item.published, Some(utc(2026, 11, 5, 0, 0, 0)));
    }

    #[test]
    fn corpus_malformed_blocks_are_read_after_clean_up() {
        for html in [
            page!("JSONLD_with_JS_comment.html"),
            page!("JSONLD_with_control_characters.html"),
            page!("JSONLD_with_control_characters_comment.html"),
        ] {
            let ld = run(html, "https://example.org/", None);
            assert_eq!(
                (ld.blocks, ld.broken.len(), ld.items.len()),
                (1, 0, 0),
                "{:?}",
                ld.broken
            );
        }
        let cleaned = clean("\n\t{\n\t\t\"a\": \"x\", // c\n\t\t//\"b\": \"\"\n\t}\n");
        assert_eq!(
            serde_json::from_str::<Value>(&cleaned).ok(),
            Some(serde_json::json!({"a": "x"}))
        );
        let cleaned = clean("{\"data\": \"<!-- kept --><b>some\n text</b>\"}");
        assert_eq!(
            serde_json::from_str::<Value>(&cleaned).ok(),
            Some(serde_json::json!({"data": "<!-- kept --><b>some\n text</b>"}))
        );
    }

    #[test]
    fn organisation_forms_and_type_forms() {
        let html = r#"<script type="application/ld+json">[
            {"@type": "http://schema.org/JobPosting", "title": "A", "url": "/a", "hiringOrganization": "Acme &amp; Co"},
            {"@type": ["Thing", "JobPosting"], "title": "B", "url": "/b", "hiringOrganization": {"@type": "Organization", "name": "Beta"}},
            {"@type": "JobPosting", "title": "C", "url": "/c", "hiringOrganization": [{"@type": "Organization", "logo": "x"}, {"name": "Gamma"}]},
            {"@type": "JobPosting", "title": "D", "url": "/d", "hiringOrganization": {"@type": "Organization"}},
            {"@type": "JobPosting", "url": "/no-title"},
            {"@type": "Occupation", "title": "not a posting"}
        ]</script>"#;
        let ld = run(html, "https://x.example/list", Some("Fallback"));
        let got: Vec<(&str, Option<&str>)> = ld
            .items
            .iter()
            .map(|i| (i.title.as_str(), i.company.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("A", Some("Acme & Co")),
                ("B", Some("Beta")),
                ("C", Some("Gamma")),
                ("D", Some("Fallback"))
            ]
        );
    }

    #[test]
    fn script_types_identifiers_and_repeats() {
        let html = r#"
            <script type="APPLICATION/LD+JSON ">{"@type": "JobPosting", "title": "T", "url": "https://x.example/1?utm_source=a", "identifier": {"@type": "PropertyValue", "value": 77}}</script>
            <script type="application/ld+json;charset=utf-8">{"@type": "JobPosting", "title": "T", "sameAs": ["mailto:x@y", "https://x.example/1"]}</script>
            <script type="text/javascript">var x = {"@type": "JobPosting", "title": "JS"};</script>
            <script>{"@type": "JobPosting", "title": "untyped"}</script>
            <script type="application/ld+json"></script>"#;
        let ld = run(html, "https://x.example/", None);
        assert_eq!(ld.blocks, 3);
        assert_eq!(ld.broken.len(), 1);
        assert!(
            ld.broken[0].starts_with("block 3: EOF while parsing"),
            "{:?}",
            ld.broken
        );
        // The second posting repeats the first (same URL and title).
        let item = only(&ld);
        assert_eq!(item.guid.as_deref(), Some("77"));
        assert_eq!(item.url.as_deref(), Some("https://x.example/1"));
    }

    #[test]
    fn salary_shapes() {
        let amount = |v: Value| base_salary(&v, None);
        assert_eq!(
            amount(
                serde_json::json!({"currency": "USD", "value": {"minValue": 100000, "maxValue": 120000, "unitText": "YEAR"}})
            ),
            salary(100000.0, 120000.0, "USD", Some("year"))
        );
        assert_eq!(
            amount(serde_json::json!({"currency": "EUR", "value": 550, "unitText": "DAY"})),
            salary(550.0, 550.0, "EUR", Some("day"))
        );
        assert_eq!(
            amount(
                serde_json::json!({"currency": "EUR", "minValue": "2 095,50", "maxValue": "45,000.00", "unitText": "WEEK"})
            ),
            salary(2095.5, 45000.0, "EUR", Some("week"))
        );
        assert_eq!(
            amount(
                serde_json::json!([{"currency": "GBP", "value": {"value": 30, "unitText": "HOUR"}}])
            ),
            salary(30.0, 30.0, "GBP", Some("hour"))
        );
        let min_only = amount(
            serde_json::json!({"currency": "EUR", "value": {"minValue": 40000, "unitText": "MOIS"}}),
        );
        assert_eq!(
            min_only.as_ref().map(|s| (s.min, s.max)),
            Some((Some(40000.0), None))
        );
        assert_eq!(min_only.and_then(|s| s.period).as_deref(), Some("month"));
        assert_eq!(
            amount(serde_json::json!({"currency": "EUR", "value": "competitive"})),
            None
        );
        assert_eq!(amount(serde_json::json!("NaN")), None);
        assert_eq!(amount(serde_json::json!(null)), None);
    }

    #[test]
    fn contract_precedence() {
        let kind = |t: Value, title: &str| contract(Some(&t), title);
        assert_eq!(
            kind(serde_json::json!("FULL_TIME"), "Stage développeur"),
            Some("internship")
        );
        assert_eq!(
            kind(serde_json::json!("FULL_TIME"), "Développeur"),
            Some("cdi")
        );
        assert_eq!(
            kind(serde_json::json!("TEMPORARY"), "Conseiller CDD"),
            Some("cdd")
        );
        assert_eq!(
            kind(serde_json::json!("INTERN"), "Responsable CDI"),
            Some("internship")
        );
        assert_eq!(
            kind(serde_json::json!(["VOLUNTEER", "CDD"]), "x"),
            Some("cdd")
        );
        assert_eq!(
            kind(serde_json::json!("OTHER"), "Alternance dev"),
            Some("apprenticeship")
        );
        assert_eq!(contract(None, "Backend developer"), None);
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let deep_array = format!(
            "<script type=\"application/ld+json\">{}{{\"@type\":\"JobPosting\",\"title\":\"deep\"}}{}</script>",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let ld = run(&deep_array, "https://x.example/", None);
        assert_eq!((ld.blocks, ld.items.len(), ld.broken.len()), (1, 0, 1));
        let mut nested = String::from("{\"@type\":\"JobPosting\",\"title\":\"too deep\"}");
        for _ in 0..(MAX_DEPTH + 2) {
            nested = format!("{{\"a\":{nested}}}");
        }
        let ld = run(
            &format!("<script type=\"application/ld+json\">{nested}</script>"),
            "https://x.example/",
            None,
        );
        assert_eq!((ld.items.len(), ld.broken.len()), (0, 0));
    }

    #[test]
    fn parse_date_formats() {
        let cases: &[(&str, DateTime<Utc>)] = &[
            ("2026-11-19T14:30:00Z", utc(2026, 11, 19, 14, 30, 0)),
            (
                "2026-11-19T14:30:00.250+01:00",
                utc(2026, 11, 19, 13, 30, 0) + chrono::TimeDelta::milliseconds(250),
            ),
            ("2026-11-19T14:30:00+0100", utc(2026, 11, 19, 13, 30, 0)),
            ("2026-11-19 14:30:00+01:00", utc(2026, 11, 19, 13, 30, 0)),
            ("2026-11-19T14:30:00", utc(2026, 11, 19, 14, 30, 0)),
            (
                "2026-11-19T14:30:00.123456",
                utc(2026, 11, 19, 14, 30, 0) + chrono::TimeDelta::microseconds(123_456),
            ),
            ("2026-11-19T14:30", utc(2026, 11, 19, 14, 30, 0)),
            ("2026-11-19T14:30Z", utc(2026, 11, 19, 14, 30, 0)),
            ("2026-11-19 14:30", utc(2026, 11, 19, 14, 30, 0)),
            (" 2026-11-19 ", utc(2026, 11, 19, 0, 0, 0)),
            (
                "Thu, 19 Nov 2026 14:30:00 +0100",
                utc(2026, 11, 19, 13, 30, 0),
            ),
            (
                "Thu, 19 Nov 2026 14:30:00 GMT",
                utc(2026, 11, 19, 14, 30, 0),
            ),
            ("19/11/2026", utc(2026, 11, 19, 0, 0, 0)),
            ("19/11/2026 14:30", utc(2026, 11, 19, 14, 30, 0)),
            ("19/11/2026 14:30:15", utc(2026, 11, 19, 14, 30, 15)),
            ("19/11/2026 à 14:30", utc(2026, 11, 19, 14, 30, 0)),
            ("19.11.2026", utc(2026, 11, 19, 0, 0, 0)),
            ("19.11.2026 14:30", utc(2026, 11, 19, 14, 30, 0)),
            ("19-11-2026", utc(2026, 11, 19, 0, 0, 0)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text), Some(*expected), "{text}");
        }
        for text in [
            "",
            "  ",
            "yesterday",
            "il y a 3 jours",
            "31/02/2026",
            "2026-13-01",
            "19/11",
            "2026",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }
}
