//! Feed adapter: an RSS 0.9x/1.0/2.0, Atom or JSON Feed document in, one
//! [`Item`] per entry out, parsed with feed-rs.
//!
//! Owns: decoding the body to UTF-8 before feed-rs sees it (through
//! [`normalise::decode`]), telling a feed from an HTML page or another
//! non-feed and saying so in a one-line error, and mapping feed entries to
//! items (guid, plain-text title and summary, canonical link, dates, tags).
//! Does not own: fetching (HTTP, conditional requests, decompression), feed
//! discovery in HTML pages, job-specific fields (company, location, remote,
//! contract, validity: later issues), microblog specifics, or deduplication
//! (the store).

use std::panic::{AssertUnwindSafe, catch_unwind};

use feed_rs::model::{Content, Entry, Feed, FeedType, Text};
use feed_rs::parser::{Builder, ParseErrorKind, ParseFeedError};
use url::Url;

use crate::normalise::{self, canonical_url, html_to_text, parse_link, plain, truncate_chars};
use crate::offer::Item;

/// Longest summary kept, in characters (the rest is cut, ending in `…`).
pub const SUMMARY_MAX_CHARS: usize = 4000;
/// Longest title [`derive_title`] produces, in characters.
pub const DERIVED_TITLE_MAX_CHARS: usize = 120;
/// Longest parser message quoted in a [`FeedError`], in characters.
const ERROR_DETAIL_MAX_CHARS: usize = 200;

/// Why a fetched body gave no feed. `Display` is one line, for logs and the
/// source's status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The body is empty or only whitespace.
    #[error("empty response")]
    Empty,
    /// The body is an HTML page (typically an error, login or landing page).
    #[error("not a feed: the response is an HTML page")]
    HtmlPage,
    /// The body still starts with the gzip magic number.
    #[error("not a feed: the response is gzip-compressed bytes")]
    Compressed,
    /// The body is neither markup nor JSON.
    #[error("not a feed: the response is neither XML nor JSON")]
    NotMarkup,
    /// Well-formed enough to find a root element, which is not a feed's.
    #[error("not a feed: the XML root element is <{0}>, not <rss>, <rdf:RDF> or <feed>")]
    UnknownRoot(String),
    /// The XML is not well-formed (truncated, mismatched tags…).
    #[error("not a feed: XML parse error: {0}")]
    Xml(String),
    /// The body is not valid JSON.
    #[error("not a feed: JSON parse error: {0}")]
    Json(String),
    /// Valid JSON without the JSON Feed structure (an API payload, say).
    #[error("not a feed: JSON document is not a JSON Feed: {0}")]
    NotJsonFeed(String),
    /// A JSON Feed whose `version` is not 1.x.
    #[error("not a feed: unsupported JSON Feed version {0:?}")]
    JsonFeedVersion(String),
    /// A feed feed-rs rejects for its content (unknown text type…).
    #[error("not a feed: {0}")]
    Invalid(String),
    /// feed-rs panicked; caught so that one hostile feed cannot take a
    /// worker down.
    #[error("not a feed: the feed parser crashed on this document")]
    ParserCrashed,
}

/// Parses a fetched feed body into items, one per entry that has a title
/// (its own, else derived from its text, else its URL) or a link; entries
/// with neither are skipped. `content_type` is the HTTP `Content-Type` (for
/// its charset and to recognise HTML); `base` is the feed's URL, against
/// which relative links are resolved after any `xml:base`. A feed with no
/// entries is `Ok` and empty.
pub fn parse(body: &[u8], content_type: Option<&str>, base: &Url) -> Result<Vec<Item>, FeedError> {
    if body.starts_with(&[0x1F, 0x8B]) {
        return Err(FeedError::Compressed);
    }
    // feed-rs (through quick-xml) would honour the encoding declaration but
    // knows neither the HTTP charset nor UTF-32, and fails outright on
    // invalid bytes; it gets UTF-8 text whose declaration says so.
    let text = normalise::decode(body, content_type);
    if text.trim().is_empty() {
        return Err(FeedError::Empty);
    }
    let feed = parse_feed(&text, content_type, base)?;
    Ok(feed
        .entries
        .iter()
        .filter_map(|entry| item(entry, &feed.feed_type, base))
        .collect())
}

/// A title for text that has none (a summary, a microblog post): its first
/// sentence if that has at least two words and fits in
/// [`DERIVED_TITLE_MAX_CHARS`], else the text itself if it fits, else its
/// start cut at a word boundary and ending in `…`. Whitespace is collapsed;
/// HTML is not stripped (pass text through `html_to_text` first).
pub fn derive_title(text: &str) -> String {
    let text = plain(text);
    for (count, (i, c)) in text.char_indices().enumerate() {
        if count >= DERIVED_TITLE_MAX_CHARS {
            break;
        }
        let end = i + c.len_utf8();
        let ends_sentence = match c {
            '.' | '!' | '?' | '…' => text
                .get(end..)
                .is_none_or(|after| after.is_empty() || after.starts_with(' ')),
            // CJK full-width stops are not followed by a space.
            '。' | '！' | '？' => true,
            _ => false,
        };
        if !ends_sentence {
            continue;
        }
        let sentence = text.get(..end).unwrap_or_default();
        let sentence = sentence.strip_suffix('.').unwrap_or(sentence).trim_end();
        // One-word "sentences" are mostly abbreviations and list numbers
        // ("Dr.", "e.g.", "1."); CJK sentences have no spaces to count.
        if sentence.contains(' ') || matches!(c, '。' | '！' | '？') {
            return sentence.to_owned();
        }
    }
    if text.chars().count() <= DERIVED_TITLE_MAX_CHARS {
        return text;
    }
    let prefix_end = text
        .char_indices()
        .nth(DERIVED_TITLE_MAX_CHARS - 1)
        .map_or(text.len(), |(i, _)| i);
    let prefix = text.get(..prefix_end).unwrap_or_default();
    let cut = match prefix.rfind(' ') {
        // Cutting at a space is only worth it if it keeps most of the text.
        Some(space) if space >= prefix.len() / 2 => space,
        _ => prefix.len(),
    };
    let mut title = prefix.get(..cut).unwrap_or(prefix).trim_end().to_owned();
    title.push('…');
    title
}

fn parse_feed(text: &str, content_type: Option<&str>, base: &Url) -> Result<Feed, FeedError> {
    let root = sniff_root(text);
    let compatible = compatible_root_tag(text, &root);
    let error = match run_feed_rs(compatible.as_deref().unwrap_or(text), base)? {
        Ok(feed) => return Ok(feed),
        Err(error) => error,
    };
    let html_type = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
    let feed_root = root.name.as_deref().is_some_and(is_feed_root);
    let json = text.trim_start().starts_with(['{', '[']);
    if root.html || (html_type && !feed_root && !json) {
        return Err(FeedError::HtmlPage);
    }
    let json_error = matches!(
        error,
        ParseFeedError::JsonUnsupportedVersion(_) | ParseFeedError::JsonSerde(_)
    );
    if json_error && let Some(repaired) = repaired_json_feed(text) {
        // The repaired document's errors would only confuse; the original
        // error is the one worth reporting.
        if let Ok(feed) = run_feed_rs(&repaired, base)? {
            return Ok(feed);
        }
    }
    Err(feed_error(error, root.name))
}

/// Namespaces feed-rs does not know, and the one it knows that means the
/// same to it. feed-rs ignores every element in an unknown namespace, so a
/// feed declaring one of these as its default namespace parses "fine" with
/// no entries.
const NAMESPACE_ALIASES: &[(&str, &str)] = &[
    // RSS 0.90 (RDF), still served by some news sites (heise.de): same
    // channel/item/title/link/description structure as RSS 1.0.
    (
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://purl.org/rss/1.0/",
    ),
    (
        "http://channel.netscape.com/rdf/simple/0.9/",
        "http://purl.org/rss/1.0/",
    ),
    // UserLand's namespace for RSS 2.0 (which normally has none).
    (
        "http://backend.userland.com/rss2",
        "http://purl.org/rss/1.0/",
    ),
    (
        "http://backend.userland.com/rss",
        "http://purl.org/rss/1.0/",
    ),
    // Not Atom 0.3 ("http://purl.org/atom/ns#"): its usual inline XHTML
    // content (type="application/xhtml+xml") makes feed-rs's Atom 1.0
    // parser reject the whole feed, which is worse than no entries.
];

/// `text` with its root start tag adjusted to what feed-rs accepts, or
/// `None` if it needs nothing: [`NAMESPACE_ALIASES`] replaced, and an
/// `<rss>` root given `version="2.0"` unless it says 0.91, 0.92 or 2.0
/// (feed-rs rejects the others, yet RSS without a version, 0.93, 0.94 or
/// "2.00" is RSS 2.0 for all practical purposes). Only the root tag is
/// touched, where these declarations live in practice.
fn compatible_root_tag(text: &str, root: &Root) -> Option<String> {
    let rest = text.get(root.start..)?;
    let tag = rest.get(..rest.find('>')? + 1)?;
    let mut fixed = tag.to_owned();
    for (alias, canonical) in NAMESPACE_ALIASES {
        for quote in ['"', '\''] {
            fixed = fixed.replace(
                &format!("{quote}{alias}{quote}"),
                &format!("{quote}{canonical}{quote}"),
            );
        }
    }
    if root.name.as_deref() == Some("rss") {
        let attrs_start = 1 + root.name_len;
        let attrs = fixed.get(attrs_start..)?;
        match normalise::attr_value(attrs.as_bytes(), b"version") {
            Some(value) => {
                let version = attrs.get(value.clone())?.trim();
                if !matches!(version, "0.91" | "0.92" | "2.0") {
                    let range = attrs_start + value.start..attrs_start + value.end;
                    fixed.replace_range(range, "2.0");
                }
            }
            None => fixed.insert_str(attrs_start, " version=\"2.0\""),
        }
    }
    if fixed == tag {
        return None;
    }
    let before = text.get(..root.start)?;
    let after = rest.get(tag.len()..)?;
    Some(format!("{before}{fixed}{after}"))
}

/// A JSON Feed that spells its 1.x version another way (`1.0`,
/// `http://jsonfeed.org/version/1`…) or lacks the required `title`, both of
/// which feed-rs rejects, rewritten in the canonical form. `None` for
/// anything that does not claim to be a JSON Feed 1.x.
fn repaired_json_feed(text: &str) -> Option<String> {
    let mut document: serde_json::Value = serde_json::from_str(text).ok()?;
    let object = document.as_object_mut()?;
    let version = object
        .get("version")?
        .as_str()?
        .trim()
        .trim_end_matches('/');
    let version = version.to_ascii_lowercase();
    let claims_v1 = matches!(version.as_str(), "1" | "1.0" | "1.1")
        || version.ends_with("jsonfeed.org/version/1")
        || version.ends_with("jsonfeed.org/version/1.1");
    if !claims_v1 {
        return None;
    }
    object.insert("version".into(), "https://jsonfeed.org/version/1.1".into());
    if !object
        .get("title")
        .is_some_and(serde_json::Value::is_string)
    {
        object.insert("title".into(), "".into());
    }
    serde_json::to_string(&document).ok()
}

/// feed-rs's result, or `Err` if it panicked.
fn run_feed_rs(text: &str, base: &Url) -> Result<Result<Feed, ParseFeedError>, FeedError> {
    let parser = Builder::new()
        // Relative links are resolved against xml:base, then the feed URL.
        .base_uri(Some(base.as_str()))
        // feed-rs otherwise invents ids (a hash of link and title, or a
        // random UUID) for entries without one; an empty id lets `item`
        // tell "no guid" apart.
        .id_generator(|_, _, _| String::new())
        .build();
    catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())))
        .map_err(|_| FeedError::ParserCrashed)
}

fn is_feed_root(name: &str) -> bool {
    matches!(name, "rss" | "RDF" | "feed" | "entry")
}

fn feed_error(error: ParseFeedError, root: Option<String>) -> FeedError {
    let detail = |message: &str| truncate_chars(&plain(message), ERROR_DETAIL_MAX_CHARS);
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => match root {
            // feed-rs's only reason to reject an <rss> root it accepted.
            Some(name) if name == "rss" => {
                FeedError::Invalid("the <rss> element has no <channel>".to_owned())
            }
            Some(name) if is_feed_root(&name) => {
                FeedError::Xml(format!("cannot read the <{}> root element", detail(&name)))
            }
            Some(name) => FeedError::UnknownRoot(detail(&name)),
            None => FeedError::NotMarkup,
        },
        ParseFeedError::ParseError(ParseErrorKind::MissingContent(what)) => {
            FeedError::Invalid(format!("an element has no content ({what})"))
        }
        ParseFeedError::ParseError(ParseErrorKind::UnknownMimeType(mime)) => {
            FeedError::Invalid(format!("unsupported text type {:?}", detail(&mime)))
        }
        ParseFeedError::IoError(e) => FeedError::Invalid(detail(&e.to_string())),
        ParseFeedError::JsonSerde(e) => match e.classify() {
            serde_json::error::Category::Data => FeedError::NotJsonFeed(detail(&e.to_string())),
            _ => FeedError::Json(detail(&e.to_string())),
        },
        ParseFeedError::JsonUnsupportedVersion(version) => {
            FeedError::JsonFeedVersion(detail(&version))
        }
        ParseFeedError::XmlReader(e) => {
            let message = e.to_string();
            let message = message.strip_prefix("Parser error: ").unwrap_or(&message);
            FeedError::Xml(detail(message))
        }
    }
}

/// What precedes and opens the document's root element.
#[derive(Debug, Default)]
struct Root {
    /// Local name of the root element (`rdf:RDF` gives `RDF`).
    name: Option<String>,
    /// Byte offset of the root element's `<`.
    start: usize,
    /// Length in bytes of the qualified name after that `<`.
    name_len: usize,
    /// The document is HTML: an HTML doctype or an `html`/`head`/`body` root.
    html: bool,
}

/// Finds the root element by skipping the XML declaration, processing
/// instructions, comments and doctype. Cheap and lenient: only used to word
/// errors and to recognise HTML.
fn sniff_root(text: &str) -> Root {
    let mut root = Root::default();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let skip_past = |end: &str| rest.find(end).map(|i| i + end.len());
        let skipped = if rest.starts_with("<?") {
            skip_past("?>")
        } else if rest.starts_with("<!--") {
            skip_past("-->")
        } else if rest
            .get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("<!doctype"))
        {
            let doctype = rest.get(9..).unwrap_or_default().trim_start();
            root.html |= doctype
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("html"));
            doctype_len(rest)
        } else if let Some(tag) = rest.strip_prefix('<') {
            let name_len = tag
                .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/'))
                .unwrap_or(tag.len());
            let name = tag.get(..name_len).unwrap_or_default();
            let local = name.rsplit(':').next().unwrap_or(name);
            if !local.is_empty() {
                root.html |= ["html", "head", "body"]
                    .iter()
                    .any(|html| local.eq_ignore_ascii_case(html));
                root.name = Some(local.to_owned());
                root.start = text.len() - rest.len();
                root.name_len = name_len;
            }
            return root;
        } else {
            return root;
        };
        match skipped.and_then(|n| rest.get(n..)) {
            Some(after) => rest = after,
            None => return root,
        }
    }
}

/// Length of the doctype opening `rest`, internal subset (`[…]`, which may
/// contain `>`) included.
fn doctype_len(rest: &str) -> Option<usize> {
    let close = rest.find('>')?;
    match rest.find('[') {
        Some(open) if open < close => {
            let subset_end = open + rest.get(open..)?.find(']')?;
            Some(subset_end + rest.get(subset_end..)?.find('>')? + 1)
        }
        _ => Some(close + 1),
    }
}

/// The item for one entry, or `None` if it has neither title nor link.
fn item(entry: &Entry, feed_type: &FeedType, base: &Url) -> Option<Item> {
    let guid = Some(entry.id.trim())
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    let summary = entry
        .summary
        .as_ref()
        .map(text_to_plain)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            entry
                .content
                .as_ref()
                .and_then(content_to_plain)
                .filter(|s| !s.is_empty())
        });
    let url = entry_url(entry, feed_type, guid.as_deref(), base);
    let title = entry
        .title
        .as_ref()
        .map(text_to_plain)
        .filter(|t| !t.is_empty())
        .or_else(|| {
            summary
                .as_deref()
                .map(derive_title)
                .filter(|t| !t.is_empty())
        })
        // A link alone still identifies an offer; showing it beats an empty
        // title in a digest.
        .or_else(|| url.clone())?;
    let mut tags: Vec<String> = Vec::new();
    for category in &entry.categories {
        let tag = html_to_text(category.label.as_deref().unwrap_or(&category.term));
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Some(Item {
        guid,
        title,
        // Standard feeds have no company field; job boards often write
        // "Company: Title" (We Work Remotely) but not reliably, so it is not
        // guessed from the title or the author.
        company: None,
        url,
        published: entry.published.or(entry.updated),
        summary: summary.map(|s| truncate_chars(&s, SUMMARY_MAX_CHARS)),
        tags,
        // Location, remote, contract, validity, salary: not in standard
        // feeds (later issues).
        ..Item::default()
    })
}

/// The entry's web page: its first `alternate` (or rel-less) link, else its
/// first link, that is http(s) once resolved; for RSS, else a guid that is
/// an absolute http(s) URL (RSS guids are permalinks by default).
fn entry_url(
    entry: &Entry,
    feed_type: &FeedType,
    guid: Option<&str>,
    base: &Url,
) -> Option<String> {
    let alternate = |rel: Option<&str>| rel.is_none_or(|rel| rel.eq_ignore_ascii_case("alternate"));
    let preferred = entry
        .links
        .iter()
        .filter(|link| alternate(link.rel.as_deref()));
    let others = entry
        .links
        .iter()
        .filter(|link| !alternate(link.rel.as_deref()));
    // feed-rs has already applied xml:base and the feed URL to XML feeds'
    // links; JSON Feed links are resolved here.
    let link = preferred
        .chain(others)
        .find_map(|link| parse_link(&link.href, base));
    let from_guid = || {
        guid.filter(|_| matches!(feed_type, FeedType::RSS0 | FeedType::RSS2))
            .and_then(|guid| Url::parse(guid.trim()).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"))
    };
    link.or_else(from_guid).map(|url| canonical_url(&url))
}

/// Plain text of a feed text construct. Text typed as plain still goes
/// through the HTML reader: RSS has no type and its titles routinely carry
/// markup or a second level of escaping (`&amp;amp;`).
fn text_to_plain(text: &Text) -> String {
    unescape_twice(html_to_text(&text.content))
}

/// Some feeds escape their HTML twice (reddit's RSS descriptions), so that
/// one pass leaves markup as text; it gets a second pass. Only common
/// closing tags count as markup, so that text merely mentioning `<` or an
/// XML sample is not mistaken for it.
fn unescape_twice(text: String) -> String {
    if !text.contains('<') {
        return text;
    }
    let lower = text.to_ascii_lowercase();
    let markup = [
        "</p>", "</div>", "</a>", "</li>", "</span>", "<br>", "<br/>", "<br />",
    ]
    .iter()
    .any(|tag| lower.contains(tag));
    if markup { html_to_text(&text) } else { text }
}

/// Plain text of an entry's content when it is textual (not base64 media,
/// not an out-of-line `src`).
fn content_to_plain(content: &Content) -> Option<String> {
    let body = content.body.as_deref()?;
    let media_type = content.content_type.to_string().to_ascii_lowercase();
    let textual = media_type.starts_with("text/")
        || media_type.contains("html")
        || media_type.ends_with("xml");
    textual.then(|| unescape_twice(html_to_text(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus::{corpus, files_under};

    /// The shared corpus: next to the main crate, or at its usual place when
    /// the tests run from a scratch crate.
    fn fixture(path: &str) -> Option<Vec<u8>> {
        std::fs::read(corpus().join(path)).ok()
    }

    fn base(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn parse_ok(body: &[u8], content_type: Option<&str>, feed_url: &str) -> Vec<Item> {
        match parse(body, content_type, &base(feed_url)) {
            Ok(items) => items,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    /// The `Content-Type` a feedparser test file says it was served with, in
    /// a `Header: Content-type: …` line of its leading comment.
    fn declared_header(body: &[u8]) -> Option<String> {
        let head = String::from_utf8_lossy(body.get(..600).unwrap_or(body)).into_owned();
        head.lines().find_map(|line| {
            let value = line.trim().strip_prefix("Header:")?.trim();
            let (name, value) = value.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
    }

    // --- Corpus fixtures ---------------------------------------------------

    #[test]
    fn rss2_job_feed_we_work_remotely() {
        let Some(body) = fixture("feeds/jobs/weworkremotely_programming.rss") else {
            return;
        };
        let items = parse_ok(
            &body,
            Some("application/rss+xml; charset=utf-8"),
            "https://weworkremotely.com/categories/remote-programming-jobs.rss",
        );
        assert_eq!(items.len(), 2);
        let first = &items[0];
        assert_eq!(first.title, "Fin: Solutions Architect -Spanish Speaking");
        assert_eq!(
            first.company, None,
            "company is never guessed from the title"
        );
        assert_eq!(first.tags, vec!["Full-Stack Programming".to_owned()]);
        let url = first.url.as_deref().expect("url");
        assert!(url.starts_with("https://weworkremotely.com/"), "{url}");
        assert!(first.guid.is_some());
        assert!(first.published.is_some());
        let summary = first.summary.as_deref().expect("summary");
        assert!(
            summary.starts_with("Headquarters: NYC, Remote;"),
            "{summary}"
        );
        assert!(
            summary.contains("R&D"),
            "double-escaped entity decoded: {summary}"
        );
        assert!(
            !summary.contains('<') && !summary.contains("&amp;") && !summary.contains("&nbsp;")
        );
        assert!(summary.chars().count() <= SUMMARY_MAX_CHARS);
    }

    #[test]
    fn rss2_job_feed_with_html_in_titles() {
        let Some(body) = fixture("feeds/jobs/fr_pass_fonction_publique.rss") else {
            return;
        };
        let items = parse_ok(
            &body,
            None,
            "https://www.pass.fonction-publique.gouv.fr/flux/offres",
        );
        assert!(!items.is_empty());
        let first = &items[0];
        assert_eq!(first.title, "Contrat d'Apprentissage - financements H/F");
        assert_eq!(
            first.url.as_deref(),
            Some(
                "https://www.pass.fonction-publique.gouv.fr/offre/contrat-dapprentissage-financements-hf"
            )
        );
        // isPermaLink="false": the guid is an id, not used as the link.
        assert_eq!(
            first.guid.as_deref(),
            Some("8760e23b-b22d-4fe6-ab21-3327480cd0b1")
        );
        assert!(
            first
                .summary
                .as_deref()
                .is_some_and(|s| s.starts_with("Au sein du service, l’alternant(e)"))
        );
        for item in &items {
            assert!(!item.title.contains('<'), "{}", item.title);
        }
    }

    #[test]
    fn atom_relative_links_resolve_against_feed_url_and_xml_base() {
        let Some(body) = fixture("feeds/node-feedparser/tpm-with-fragment-base.atom") else {
            return;
        };
        let items = parse_ok(
            &body,
            Some("application/atom+xml"),
            "https://talkingpointsmemo.com/feed/all?utm_source=x",
        );
        assert_eq!(
            items[0].url.as_deref(),
            Some(
                "https://talkingpointsmemo.com/livewire/hannity-announces-fox-hired-sebastian-gorka-national-security-strategist"
            )
        );
        assert_eq!(items[1].title, "We're Hiring: Senior Editor");
        assert_eq!(
            items[1].guid.as_deref(),
            Some("tag:talkingpointsmemo.com,2005:ArticleDecorator/270059")
        );
        assert!(items[1].summary.as_deref().is_some_and(|s| {
            s.starts_with("TPM is currently hiring for four editorial positions")
        }));

        let Some(body) = fixture("feeds/feed-rs/atom_relative.xml") else {
            return;
        };
        let items = parse_ok(&body, None, "https://example.com/blog/feed.xml");
        assert_eq!(
            items[0].url.as_deref(),
            Some("https://example.com/blog/2003/12/13/atom03")
        );
    }

    #[test]
    fn inline_xml_base_applies_to_entry_links() {
        let feed = br#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://jobs.example.org/board/">
  <title>Board</title><id>urn:x</id><updated>2025-01-01T00:00:00Z</updated>
  <entry xml:base="offers/">
    <title type="html">Rust &lt;b&gt;developer&lt;/b&gt; &amp;amp; SRE</title>
    <link rel="alternate" href="42?utm_source=feed&amp;b=2&amp;a=1#apply"/>
    <link rel="enclosure" href="/files/42.pdf"/>
    <id>urn:offer:42</id>
    <updated>2025-01-02T10:00:00Z</updated>
    <category term="rust" label="Rust"/><category term="sre"/><category term="rust" label="Rust"/>
  </entry>
</feed>"#;
        let items = parse_ok(feed, None, "https://elsewhere.example.net/feed.atom");
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.title, "Rust developer & SRE");
        assert_eq!(
            item.url.as_deref(),
            Some("https://jobs.example.org/board/offers/42?a=1&b=2")
        );
        assert_eq!(item.guid.as_deref(), Some("urn:offer:42"));
        assert_eq!(item.tags, vec!["Rust".to_owned(), "sre".to_owned()]);
        assert_eq!(
            item.published.map(|d| d.to_rfc3339()),
            Some("2025-01-02T10:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn iso_8859_1_feeds() {
        let Some(body) = fixture("feeds/miniflux/encoding_ISO-8859-1.xml") else {
            return;
        };
        let items = parse_ok(&body, None, "https://example.org/feed");
        assert!(!items.is_empty());
        let text: String = items
            .iter()
            .map(|i| format!("{} {:?}", i.title, i.summary))
            .collect();
        assert!(
            !text.contains('\u{fffd}'),
            "replacement characters in {text}"
        );

        let feed = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n<item><title>D\xE9veloppeur \xE0 Nantes</title><link>/o/1</link></item></channel></rss>";
        let items = parse_ok(feed, Some("application/rss+xml"), "https://example.fr/rss");
        assert_eq!(items[0].title, "Développeur à Nantes");
        assert_eq!(items[0].url.as_deref(), Some("https://example.fr/o/1"));
        // No declaration, no charset, latin-1 bytes.
        if let Some(body) = fixture("feeds-malformed/miniflux/no_encoding_ISO-8859-1.xml") {
            let items = parse_ok(
                &body,
                None,
                "https://le-cercle-psy.scienceshumaines.com/rss",
            );
            assert_eq!(items[6].title, "Migrants : l'urgence thérapeutique");
            assert!(items.iter().all(|i| !i.title.contains('\u{fffd}')));
        }
        // The HTTP charset overrides a wrong declaration.
        let feed = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><item><title>Caf\xE9</title></item></channel></rss>";
        let items = parse_ok(
            feed,
            Some("text/xml; charset=iso-8859-1"),
            "https://example.fr/rss",
        );
        assert_eq!(items[0].title, "Café");
    }

    #[test]
    fn utf16_and_utf32_feeds() {
        // These feedparser fixtures are `<rss></rss>` documents (no channel)
        // in various wide encodings: what matters is that they decode.
        for path in [
            "feeds/feedparser/encoding/utf-16le-bom.xml",
            "feeds/feedparser/encoding/utf-16be-bom.xml",
            "feeds/feedparser/encoding/utf-16be-autodetect.xml",
            "feeds/feedparser/encoding/utf-16le.xml",
            "feeds/feedparser/encoding/utf16.xml",
            "feeds/feedparser/encoding/utf-32le-bom.xml",
            "feeds/feedparser/encoding/utf_32.xml",
        ] {
            let Some(body) = fixture(path) else { continue };
            let text = normalise::decode(&body, None);
            assert!(
                text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
                    && text.contains("Description:")
                    && text.trim_end().ends_with("</rss>")
                    && !text.contains('\u{fffd}'),
                "{path}: {text}"
            );
            assert_eq!(
                parse(&body, None, &base("https://example.org/feed")).map_err(|e| e.to_string()),
                Err("not a feed: the <rss> element has no <channel>".to_owned()),
                "{path}"
            );
        }
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss version=\"2.0\"><channel><item><title>Ingénieur·e</title><link>https://x.org/1</link></item></channel></rss>";
        let le_with_bom: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(xml.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be_without_bom: Vec<u8> = xml.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf32le: Vec<u8> = [0xFF, 0xFE, 0, 0]
            .into_iter()
            .chain(xml.chars().flat_map(|c| u32::from(c).to_le_bytes()))
            .collect();
        for body in [le_with_bom, be_without_bom, utf32le] {
            let items = parse_ok(&body, None, "https://x.org/feed");
            assert_eq!(items[0].title, "Ingénieur·e");
        }
    }

    #[test]
    fn legacy_namespaces_are_read() {
        // RSS 0.90 (RDF) as heise.de still serves it.
        let Some(body) = fixture("feeds/miniflux/rdf_UTF8.xml") else {
            return;
        };
        let items = parse_ok(&body, None, "https://www.heise.de/newsticker/heise.rdf");
        assert_eq!(items.len(), 60);
        assert_eq!(
            items[0].title,
            "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"
        );
        // RSS 2.0 in UserLand's namespace, windows-1251.
        let Some(body) = fixture("feeds/node-feedparser/iconv.xml") else {
            return;
        };
        let items = parse_ok(&body, None, "http://www.oren.ru/rss/");
        assert_eq!(items.len(), 10);
        assert_eq!(
            items[0].title,
            "В Бузулуке главные стройплощадки – детсад и Ледовый дворец"
        );
        assert_eq!(
            items[0].url.as_deref(),
            Some("http://www.oren.ru/news/2743422/")
        );
        // Only the root tag's declarations are rewritten.
        let feed = br#"<rss xmlns="http://backend.userland.com/rss2"><channel>
            <item><title>http://backend.userland.com/rss2</title><link>https://x.org/1</link></item></channel></rss>"#;
        let items = parse_ok(feed, None, "https://x.org/rss");
        assert_eq!(items[0].title, "http://backend.userland.com/rss2");
    }

    #[test]
    fn json_feed() {
        let Some(body) = fixture("json-feeds/feed-rs/jsonfeed_spec_1.json") else {
            return;
        };
        let items = parse_ok(
            &body,
            Some("application/feed+json"),
            "https://example.org/feed.json",
        );
        assert!(!items.is_empty());
        for item in &items {
            assert!(item.guid.is_some(), "JSON Feed items carry an id");
            assert!(!item.title.is_empty());
        }

        let feed = br#"{"version": "https://jsonfeed.org/version/1.1", "title": "Jobs",
            "items": [
              {"id": "1", "url": "/jobs/1?ref=feed", "content_html": "<p>We are hiring a <b>Rust</b> engineer. Remote OK.</p>", "tags": ["rust", "remote"], "date_published": "2025-03-01T12:00:00+01:00"},
              {"content_text": "no id, no url, just words"},
              {"id": "3"}
            ]}"#;
        let items = parse_ok(feed, None, "https://board.example.com/feed.json");
        assert_eq!(
            items.len(),
            2,
            "the item with neither title nor link nor text is skipped"
        );
        assert_eq!(items[0].title, "We are hiring a Rust engineer");
        assert_eq!(
            items[0].url.as_deref(),
            Some("https://board.example.com/jobs/1")
        );
        assert_eq!(items[0].tags, vec!["rust".to_owned(), "remote".to_owned()]);
        assert_eq!(
            items[0].published.map(|d| d.to_rfc3339()),
            Some("2025-03-01T11:00:00+00:00".to_owned())
        );
        assert_eq!(items[1].guid, None);
        assert_eq!(items[1].title, "no id, no url, just words");
        assert_eq!(items[1].url, None);
    }

    // --- Inline feeds ------------------------------------------------------

    #[test]
    fn missing_guid_is_none_not_a_generated_hash() {
        let feed = br#"<rss version="2.0"><channel><title>t</title>
            <item><title>No guid</title><link>https://x.org/a</link></item>
            <item><title>With guid</title><guid isPermaLink="false"> abc-1 </guid></item>
            <item><title>Permalink guid</title><guid>https://x.org/b?utm_medium=rss</guid></item>
        </channel></rss>"#;
        let items = parse_ok(feed, None, "https://x.org/rss");
        assert_eq!(items[0].guid, None);
        assert_eq!(items[1].guid.as_deref(), Some("abc-1"));
        assert_eq!(items[1].url, None, "a non-URL guid is not a link");
        assert_eq!(items[2].url.as_deref(), Some("https://x.org/b"));
    }

    #[test]
    fn titles_derived_skipped_and_cleaned() {
        let feed = br#"<rss version="2.0"><channel><title>t</title>
            <item><description>&lt;p&gt;Senior   Rust engineer wanted. Apply now!&lt;/p&gt;</description></item>
            <item><guid isPermaLink="false">only-a-guid</guid></item>
            <item><link>https://x.org/only-link</link></item>
            <item><title>  Dev
               &lt;i&gt;backend&lt;/i&gt;   (salary &lt; 30k)  </title><link>javascript:alert(1)</link></item>
        </channel></rss>"#;
        let items = parse_ok(feed, None, "https://x.org/rss");
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Senior Rust engineer wanted",
                "https://x.org/only-link",
                "Dev backend (salary < 30k)"
            ]
        );
        assert_eq!(items[2].url, None, "javascript: links are dropped");
    }

    #[test]
    fn summary_prefers_summary_then_content_and_is_capped() {
        let long = "word ".repeat(2000);
        let feed = format!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>f</id><updated>2025-01-01T00:00:00Z</updated>
            <entry><id>1</id><title>a</title><updated>2025-01-01T00:00:00Z</updated><content type="html">&lt;p&gt;{long}&lt;/p&gt;</content></entry>
            <entry><id>2</id><title>b</title><published>2024-12-31T00:00:00Z</published><updated>2025-01-01T00:00:00Z</updated><summary>short</summary><content type="html">long body</content></entry>
            </feed>"#
        );
        let items = parse_ok(feed.as_bytes(), None, "https://x.org/atom");
        let capped = items[0].summary.as_deref().expect("summary");
        assert_eq!(capped.chars().count(), SUMMARY_MAX_CHARS);
        assert!(capped.ends_with('…'));
        assert_eq!(items[1].summary.as_deref(), Some("short"));
        assert_eq!(
            items[1].published.map(|d| d.to_rfc3339()),
            Some("2024-12-31T00:00:00+00:00".to_owned())
        );
        assert_eq!(
            items[0].published.map(|d| d.to_rfc3339()),
            Some("2025-01-01T00:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn double_escaped_html_is_unescaped() {
        let Some(body) = fixture("feeds/rss-parser/reddit-atom.rss") else {
            return;
        };
        let items = parse_ok(&body, None, "https://www.reddit.com/.rss");
        let tifu = items
            .iter()
            .find(|i| i.title.starts_with("TIFU"))
            .expect("TIFU item");
        let summary = tifu.summary.as_deref().expect("summary");
        assert!(
            summary
                .starts_with("I was laying in bed this morning browsing /r/imgoingtohellforthis"),
            "{summary}"
        );
        assert!(summary.contains("grandma's"), "{summary}");
    }

    #[test]
    fn rss_without_supported_version_is_read_as_rss2() {
        for root in [
            "<rss>",
            "<rss version=\"0.94\">",
            "<rss xmlns:v=\"version\" version='2.00'>",
        ] {
            let feed = format!(
                "<?xml version=\"1.0\"?>\n{root}<channel><title>t</title><item><title>Job</title><link>https://x.org/j</link></item></channel></rss>"
            );
            let items = parse_ok(feed.as_bytes(), None, "https://x.org/rss");
            assert_eq!(items.len(), 1, "{root}");
        }
    }

    #[test]
    fn errors_are_one_line_and_say_what_is_wrong() {
        let feed_url = base("https://x.org/feed");
        let cases: [(&[u8], Option<&str>, &str); 9] = [
            (b"", None, "empty response"),
            (b" \r\n\t", Some("text/xml"), "empty response"),
            (b"<!DOCTYPE html>\n<html><head><title>Login</title></head><body>x</body></html>", Some("application/rss+xml"), "not a feed: the response is an HTML page"),
            (b"<div>Service unavailable</div>", Some("text/html; charset=utf-8"), "not a feed: the response is an HTML page"),
            (b"<?xml version=\"1.0\"?>\n<urlset><url/></urlset>", None, "not a feed: the XML root element is <urlset>, not <rss>, <rdf:RDF> or <feed>"),
            (b"Just some text", Some("text/plain"), "not a feed: the response is neither XML nor JSON"),
            (b"\x1F\x8B\x08\x00\x00\x00", None, "not a feed: the response is gzip-compressed bytes"),
            (b"{\"jobs\": []}", Some("application/json"), "not a feed: JSON document is not a JSON Feed: missing field `version` at line 1 column 12"),
            (b"{\"version\": \"https://jsonfeed.org/version/2\", \"title\": \"t\", \"items\": []}", None, "not a feed: unsupported JSON Feed version \"https://jsonfeed.org/version/2\""),
        ];
        for (body, content_type, expected) in cases {
            let error = parse(body, content_type, &feed_url).expect_err(expected);
            assert_eq!(error.to_string(), expected);
        }
        let truncated = b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n<channel><item><title>x</title></channel></rss>";
        let message = parse(truncated, None, &feed_url)
            .expect_err("malformed")
            .to_string();
        assert!(
            message.starts_with("not a feed: XML parse error: "),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn derive_title_cases() {
        assert_eq!(
            derive_title("We are hiring. Come work with us."),
            "We are hiring"
        );
        assert_eq!(
            derive_title("Hiring! Senior Rust dev at Foo"),
            "Hiring! Senior Rust dev at Foo"
        );
        assert_eq!(
            derive_title("Dr. Smith seeks an assistant. Paid."),
            "Dr. Smith seeks an assistant"
        );
        assert_eq!(derive_title("  short   text  "), "short text");
        assert_eq!(derive_title("Version 3.5 is out"), "Version 3.5 is out");
        assert_eq!(derive_title("招聘工程师。远程工作"), "招聘工程师。");
        assert_eq!(derive_title(""), "");
        let long = "é".repeat(300);
        let title = derive_title(&long);
        assert_eq!(title.chars().count(), DERIVED_TITLE_MAX_CHARS);
        assert!(title.ends_with('…'));
        let words = "lorem ipsum ".repeat(30);
        let title = derive_title(&words);
        assert!(title.chars().count() <= DERIVED_TITLE_MAX_CHARS);
        assert!(
            title.ends_with("ipsum…") || title.ends_with("lorem…"),
            "{title}"
        );
    }

    // --- Corpus sweeps -----------------------------------------------------

    /// Corpus files under `feeds/` and `json-feeds/` that give an error,
    /// and why. The sweep checks that they still do (a file that starts
    /// parsing must leave the list), so nothing else can hide here.
    const KNOWN_ERRORS: &[(&str, &str)] = &[
        (
            "feeds/feedparser/amp/attr06.xml",
            "Atom text construct with type=\"application/xhtml+xml\": feed-rs rejects the whole feed",
        ),
        (
            "feeds/feedparser/cdf/channel_title.xml",
            "Microsoft CDF (<CHANNEL>), not RSS or Atom",
        ),
        (
            "feeds/feedparser/encoding/encoding_attribute_crash_2.xml",
            "<rss> with <item> but no <channel>",
        ),
        (
            "feeds/miniflux/xml_iso88591.xml",
            "root <note>: an encoding test document, not a feed",
        ),
        (
            "json-feeds/rsparser/ScriptingNews.json",
            "RSS 2.0 written as JSON, not a JSON Feed",
        ),
    ];

    /// Corpus files whose entries all give no item, and why: most are
    /// feedparser unit fixtures whose entries hold a single odd element.
    const KNOWN_WITHOUT_ITEMS: &[(&str, &str)] = &[
        (
            "feeds/feedparser/amp/amp10.xml",
            "Atom 0.3: feed-rs ignores its namespace",
        ),
        (
            "feeds/feedparser/amp/amp33.xml",
            "Atom 0.3: feed-rs ignores its namespace",
        ),
        (
            "feeds/feedparser/base/entry_content_xml_base_inherit_2.xml",
            "Atom 0.3: feed-rs ignores its namespace",
        ),
        (
            "feeds/feedparser/lang/entry_content_xml_lang_inherit_2.xml",
            "Atom 0.3: feed-rs ignores its namespace",
        ),
        (
            "feeds/feedparser/media-rss/media_group.xml",
            "Atom 0.3: feed-rs ignores its namespace",
        ),
        (
            "feeds/feedparser/atom10/entry_content_base64.xml",
            "entry with only base64 application/octet-stream content",
        ),
        (
            "feeds/feedparser/encoding/euc-kr-attribute.xml",
            "item with only an <img> as description: no text",
        ),
        (
            "feeds/feedparser/geo/georss_point.xml",
            "entry with only a georss:point",
        ),
        (
            "feeds/feedparser/itunes/itunes_item_duration.xml",
            "item with only itunes:duration",
        ),
        (
            "feeds/feedparser/namespace/unknown-namespace.xml",
            "an <item> in an Atom feed is not an entry",
        ),
        (
            "feeds/feedparser/node_precedence/atom10_arbitrary_element.xml",
            "entries with only unknown elements",
        ),
        (
            "feeds/feedparser/rdf/rdf_item_rdf_about.xml",
            "RSS 1.0 item with only rdf:about: feed-rs drops RSS 1.0 items without <link>",
        ),
        (
            "feeds/feedparser/rdf/rss090_channel_title.xml",
            "RSS 0.90 item without <link>: feed-rs drops it",
        ),
        (
            "feeds/gofeed/issue_217_enclosure_children.xml",
            "item with only an enclosure",
        ),
        (
            "feeds/gofeed/itunes_item_summary_cdata_multi.xml",
            "item with only itunes: elements",
        ),
        (
            "feeds/rust-atom/extension.xml",
            "entry with only extension elements",
        ),
        ("feeds/rust-atom/source.xml", "entry with only a <source>"),
        (
            "feeds/rust-rss/dublincore_altprefix.xml",
            "item with only dc: elements; feed-rs reads dc:creator and dc:date only",
        ),
        (
            "feeds/rust-rss/itunes.xml",
            "item with only itunes: elements",
        ),
        (
            "json-feeds/rsparser/authors.json",
            "items with only an id, authors and empty content_html",
        ),
    ];

    /// Whether a document has at least one entry element (`<item>`,
    /// `<entry>`) or JSON Feed item, judged from its text.
    fn has_entries(body: &[u8]) -> bool {
        let text = normalise::decode(body, None);
        if text.trim_start().starts_with('{') {
            let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
            return json
                .as_ref()
                .and_then(|json| json.get("items")?.as_array())
                .is_some_and(|items| !items.is_empty());
        }
        ["<item", "<entry"].iter().any(|tag| {
            text.match_indices(tag).any(|(at, _)| {
                text.get(at + tag.len()..)
                    .is_some_and(|after| after.starts_with(['>', '/', ' ', '\t', '\r', '\n']))
            })
        })
    }

    #[test]
    fn sweep_well_formed_feeds_parse_with_items() {
        let root = corpus();
        let listed = |list: &[(&str, &str)], path: &str| list.iter().any(|(p, _)| *p == path);
        let mut checked = 0;
        let mut with_items = 0;
        let mut failures = Vec::new();
        for dir in ["feeds", "json-feeds"] {
            let dir = root.join(dir);
            if !dir.is_dir() {
                continue;
            }
            for path in files_under(&dir) {
                let Ok(body) = std::fs::read(&path) else {
                    continue;
                };
                let relative = path
                    .strip_prefix(&root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                let content_type = declared_header(&body);
                checked += 1;
                let outcome = parse(
                    &body,
                    content_type.as_deref(),
                    &base("https://feeds.example.org/feed"),
                );
                let known_error = listed(KNOWN_ERRORS, &relative);
                let known_without_items = listed(KNOWN_WITHOUT_ITEMS, &relative);
                let problem = match outcome {
                    Err(_) if known_error => None,
                    // `<rss></rss>`: encoding fixtures without any channel.
                    Err(FeedError::Invalid(e))
                        if e.contains("no <channel>") && !has_entries(&body) =>
                    {
                        None
                    }
                    Err(e) => Some(e.to_string()),
                    Ok(_) if known_error => {
                        Some("parses now: remove it from KNOWN_ERRORS".to_owned())
                    }
                    Ok(items) if !items.is_empty() && known_without_items => {
                        Some("gives items now: remove it from KNOWN_WITHOUT_ITEMS".to_owned())
                    }
                    Ok(items) if !items.is_empty() => {
                        with_items += 1;
                        None
                    }
                    Ok(_) if known_without_items || !has_entries(&body) => None,
                    Ok(_) => Some("has entries but gave no item".to_owned()),
                };
                if let Some(problem) = problem {
                    failures.push(format!("{relative}: {problem}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {checked} corpus feeds failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        if checked > 0 {
            assert!(
                with_items * 10 >= checked * 7,
                "only {with_items} of {checked} feeds gave items"
            );
        }
    }

    #[test]
    fn sweep_malformed_feeds_never_panic() {
        let dir = corpus().join("feeds-malformed");
        if !dir.is_dir() {
            return;
        }
        for path in files_under(&dir) {
            let Ok(body) = std::fs::read(&path) else {
                continue;
            };
            // Ok or Err are both fine; a panic fails the test.
            let _ = parse(&body, None, &base("https://feeds.example.org/feed"));
            let _ = parse(
                &body,
                Some("text/html; charset=utf-16"),
                &base("https://feeds.example.org/feed"),
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_on_bytes(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse(&body, None, &base("https://x.org/feed"));
        }

        #[test]
        fn parse_never_panics_on_feed_like_text(body in "(<rss version=\"2.0\">|<feed>|<\\?xml [a-z=\"0-9. ]*\\?>|<item>|<entry>|<title>|</title>|<link>|</link>|&amp;|&#x[0-9a-f]{1,6};|<!\\[CDATA\\[|\\]\\]>|[a-zé <>&/\"'=]){0,60}") {
            let _ = parse(body.as_bytes(), None, &base("https://x.org/feed"));
        }

        #[test]
        fn derive_title_is_bounded(text in "\\PC{0,400}") {
            let title = derive_title(&text);
            proptest::prop_assert!(title.chars().count() <= DERIVED_TITLE_MAX_CHARS);
        }
    }
}
