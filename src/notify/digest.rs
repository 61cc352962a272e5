//! Digest rendering: turns a profile's new offers (and failing sources) into a
//! subject, a plain-text part and an HTML part, and wraps those into RFC 5322
//! message bytes.
//!
//! Owns: ordering, wording (English / French), escaping, truncation, the
//! templates under `templates/`, and the MIME message layout.
//! Does not own: choosing which offers go in a digest, scoring, scheduling,
//! or delivery (see `maildir` for local delivery; SMTP lives elsewhere).
//! Everything here is pure: no I/O, no clock, no environment.

use std::time::SystemTime;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use lettre::Message;
use lettre::message::header::{self, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::offer::Offer;

/// Template names. The HTML one must keep its `.html.j2` ending: the escape
/// callback below keys on it (and so does minijinja's default).
const TEXT_TEMPLATE: &str = "digest.txt.j2";
const HTML_TEMPLATE: &str = "digest.html.j2";

/// How many characters of an offer's summary the digest shows.
const SUMMARY_CHARS: usize = 300;
/// Caps on one-line fields, so one runaway feed cannot bloat a digest.
const TITLE_CHARS: usize = 200;
const FIELD_CHARS: usize = 120;
const ERROR_CHARS: usize = 300;
/// Column at which the text part wraps summaries.
const TEXT_WIDTH: usize = 72;

/// The language a digest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
}

/// One offer to announce, with the score and words that made it match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    /// The offer itself.
    pub offer: &'a Offer,
    /// Match score; higher is better. NaN sorts last.
    pub score: f32,
    /// The profile words found in the offer.
    pub words: &'a [String],
}

/// A source that has been failing, reported in every digest's footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingSource {
    /// The source's configured name.
    pub name: String,
    /// When it started failing.
    pub since: DateTime<Utc>,
    /// The last error, as text.
    pub error: String,
}

/// Everything one digest shows.
#[derive(Debug, Clone)]
pub struct Digest<'a> {
    /// Profile name (`[a-z0-9_-]`, but treated as untrusted anyway).
    pub profile: &'a str,
    /// Language of the labels and subject.
    pub language: Language,
    /// Offers to announce, in any order: rendering sorts them by score.
    pub entries: Vec<Entry<'a>>,
    /// Sources currently failing.
    pub failing: Vec<FailingSource>,
    /// Rendering time; its time zone is the one all dates are shown in.
    pub now: DateTime<Tz>,
    /// Offers shown in full; the rest are listed as "title — link" lines.
    /// `0` lists every offer as a line.
    pub max_offers: usize,
}

/// A rendered digest, ready for [`to_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Mail subject, one line.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

/// Message header values that are not part of the digest itself.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// `From` mailbox, e.g. `veille <veille@localhost>`.
    pub from: &'a str,
    /// `To` mailboxes; at least one.
    pub to: &'a [String],
    /// List identifier (RFC 2919), e.g. `alice.veille.localhost`, so mail
    /// clients can filter digests per profile.
    pub list_id: &'a str,
    /// The `Date` header.
    pub date: DateTime<Utc>,
}

/// Why a digest could not be rendered or turned into a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// A template failed to parse or render (a bug in the templates).
    #[error("digest template error: {0}")]
    Template(#[from] minijinja::Error),
    /// A `From` or `To` value is not a valid mailbox.
    #[error("invalid mail address {address:?}: {source}")]
    Address {
        /// The value as given.
        address: String,
        /// Why it was rejected.
        #[source]
        source: lettre::address::AddressError,
    },
    /// The envelope has no recipient.
    #[error("digest has no recipient")]
    NoRecipient,
    /// The list id is not a dot-atom with at least one dot (RFC 2919).
    #[error("invalid List-Id {0:?}")]
    ListId(String),
    /// lettre refused to build the message.
    #[error("cannot build digest message: {0}")]
    Message(#[from] lettre::error::Error),
}

/// Renders a digest: subject, text part and HTML part.
///
/// Entries are shown best score first (ties keep their given order); those
/// beyond `max_offers` are listed as plain lines; failing sources are listed
/// in a footer, or make up the whole body when there are no entries.
pub fn render(d: &Digest) -> Result<Rendered, DigestError> {
    let labels = Labels::of(d.language);
    let tz = d.now.timezone();
    let profile = one_line(d.profile, FIELD_CHARS);

    let mut entries = d.entries.clone();
    // `sort_by` is stable, so equal scores keep the caller's order.
    entries.sort_by(|a, b| sort_key(b.score).total_cmp(&sort_key(a.score)));
    let shown = d.max_offers.min(entries.len());
    let (full, rest) = entries.split_at(shown);

    let headline = headline(d.language, &profile, entries.len(), d.failing.is_empty());
    let subject = one_line(&format!("[veille] {headline}"), usize::MAX);

    let ctx = Context {
        lang: match d.language {
            Language::En => "en",
            Language::Fr => "fr",
        },
        l: labels,
        subject: subject.clone(),
        headline,
        profile,
        generated: format_datetime(&d.now, d.language),
        only_failing: entries.is_empty() && !d.failing.is_empty(),
        offers: full
            .iter()
            .map(|e| OfferView::new(e, labels, d.language, &tz))
            .collect(),
        overflow: rest
            .iter()
            .map(|e| LinkView::new(e.offer, labels))
            .collect(),
        failing: d
            .failing
            .iter()
            .map(|f| FailingView {
                name: one_line(&f.name, FIELD_CHARS),
                since: format_datetime(&f.since.with_timezone(&tz), d.language),
                error: one_line(&f.error, ERROR_CHARS),
            })
            .collect(),
    };

    let env = environment()?;
    let text = env.get_template(TEXT_TEMPLATE)?.render(&ctx)?;
    let html = env.get_template(HTML_TEMPLATE)?.render(&ctx)?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// Builds RFC 5322 message bytes (CRLF line ends) for a rendered digest:
/// `multipart/alternative` with UTF-8 text/plain and text/html parts, and
/// From, To, Subject (RFC 2047 encoded when non-ASCII), Date, Message-ID,
/// List-Id, Auto-Submitted and MIME-Version headers.
pub fn to_message(r: &Rendered, env: &Envelope) -> Result<Vec<u8>, DigestError> {
    let from = parse_mailbox(env.from)?;
    if env.to.is_empty() {
        return Err(DigestError::NoRecipient);
    }
    let mut builder = Message::builder().from(from);
    for to in env.to {
        builder = builder.to(parse_mailbox(to)?);
    }
    let list_id = checked_list_id(env.list_id)?;
    let message = builder
        // `Rendered` is public, so its subject may not come from `render`.
        .subject(one_line(&r.subject, usize::MAX))
        .header(header::Date::new(mail_date(env.date)))
        .message_id(None)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Id"),
            format!("veille <{list_id}>"),
        ))
        // RFC 3834: keeps vacation responders from answering a robot.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .multipart(MultiPart::alternative_plain_html(
            r.text.clone(),
            r.html.clone(),
        ))?;
    Ok(message.formatted())
}

/// Template context. Every string in it is already one line and capped;
/// HTML escaping is left to the template engine.
#[derive(Serialize)]
struct Context {
    lang: &'static str,
    l: Labels,
    subject: String,
    headline: String,
    profile: String,
    generated: String,
    only_failing: bool,
    offers: Vec<OfferView>,
    overflow: Vec<LinkView>,
    failing: Vec<FailingView>,
}

#[derive(Serialize)]
struct OfferView {
    title: String,
    /// Only set for http(s) URLs: the one value the HTML puts in an `href`.
    href: Option<String>,
    /// The URL as text, whatever its scheme.
    url: Option<String>,
    company: Option<String>,
    location: Option<String>,
    remote: Option<&'static str>,
    contract: Option<String>,
    published: Option<String>,
    sources: Option<String>,
    words: Option<String>,
    summary: Option<String>,
    /// The summary wrapped for the text part.
    summary_lines: Vec<String>,
}

impl OfferView {
    fn new(e: &Entry, l: Labels, lang: Language, tz: &Tz) -> Self {
        let o = e.offer;
        let summary = o
            .summary
            .as_deref()
            .map(|s| one_line(s, SUMMARY_CHARS))
            .filter(|s| !s.is_empty());
        Self {
            title: title_of(o, l),
            href: o.url.as_deref().and_then(safe_href),
            url: non_empty(o.url.as_deref(), usize::MAX),
            company: non_empty(o.company.as_deref(), FIELD_CHARS),
            location: non_empty(o.location.as_deref(), FIELD_CHARS),
            remote: o.remote.map(|r| if r { l.yes } else { l.no }),
            contract: non_empty(o.contract.as_deref(), FIELD_CHARS),
            published: o.published.map(|p| format_date(&p.with_timezone(tz), lang)),
            sources: join(&o.sources),
            words: join(e.words),
            summary_lines: summary
                .as_deref()
                .map(|s| wrap(s, TEXT_WIDTH))
                .unwrap_or_default(),
            summary,
        }
    }
}

/// An offer beyond `max_offers`: just its title and link.
#[derive(Serialize)]
struct LinkView {
    title: String,
    href: Option<String>,
    url: Option<String>,
}

impl LinkView {
    fn new(o: &Offer, l: Labels) -> Self {
        Self {
            title: title_of(o, l),
            href: o.url.as_deref().and_then(safe_href),
            url: non_empty(o.url.as_deref(), usize::MAX),
        }
    }
}

#[derive(Serialize)]
struct FailingView {
    name: String,
    since: String,
    error: String,
}

/// Every fixed word the templates show, per language, so templates hold no
/// language logic.
#[derive(Debug, Clone, Copy, Serialize)]
struct Labels {
    /// Separator between a label and its value (French puts a no-break
    /// space before the colon).
    colon: &'static str,
    company: &'static str,
    location: &'static str,
    remote: &'static str,
    contract: &'static str,
    published: &'static str,
    seen_on: &'static str,
    matched: &'static str,
    link: &'static str,
    yes: &'static str,
    no: &'static str,
    untitled: &'static str,
    more_offers: &'static str,
    failing: &'static str,
    failing_intro: &'static str,
    since: &'static str,
    footer: &'static str,
}

impl Labels {
    fn of(lang: Language) -> Self {
        match lang {
            Language::En => Self {
                colon: ": ",
                company: "company",
                location: "location",
                remote: "remote",
                contract: "contract",
                published: "published",
                seen_on: "seen on",
                matched: "matched",
                link: "link",
                yes: "yes",
                no: "no",
                untitled: "(untitled)",
                more_offers: "More offers",
                failing: "Sources failing",
                failing_intro: "These sources could not be fetched; offers from them may be missing.",
                since: "since",
                footer: "Sent by veille for profile",
            },
            Language::Fr => Self {
                colon: "\u{a0}: ",
                company: "Entreprise",
                location: "Lieu",
                remote: "Télétravail",
                contract: "Contrat",
                published: "Publiée le",
                seen_on: "Vu sur",
                matched: "Mots trouvés",
                link: "Lien",
                yes: "oui",
                no: "non",
                untitled: "(sans titre)",
                more_offers: "Autres offres",
                failing: "Sources en échec",
                failing_intro: "Ces sources n’ont pas pu être consultées ; des offres peuvent manquer.",
                since: "depuis le",
                footer: "Envoyé par veille pour le profil",
            },
        }
    }
}

/// The subject without its `[veille] ` tag; also the digest's heading.
fn headline(lang: Language, profile: &str, count: usize, no_failing: bool) -> String {
    match (lang, count) {
        (Language::En, 0) if !no_failing => format!("Sources failing for {profile}"),
        (Language::Fr, 0) if !no_failing => format!("Sources en échec pour {profile}"),
        (Language::En, 1) => format!("1 new offer for {profile}"),
        (Language::En, n) => format!("{n} new offers for {profile}"),
        // French uses the singular for 0 and 1.
        (Language::Fr, n @ (0 | 1)) => format!("{n} nouvelle offre pour {profile}"),
        (Language::Fr, n) => format!("{n} nouvelles offres pour {profile}"),
    }
}

/// The environment with both templates. Built per render: parsing two small
/// templates costs microseconds, and a digest goes out at most a few times
/// a day.
fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    // Explicit rather than relying on minijinja's default (which also strips
    // `.j2` and escapes `.html`): the HTML template must never render
    // unescaped, whatever a future minijinja decides.
    env.set_auto_escape_callback(auto_escape_for);
    // A typo in a template should fail tests, not render an empty field.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_template(TEXT_TEMPLATE, include_str!("templates/digest.txt.j2"))?;
    env.add_template(HTML_TEMPLATE, include_str!("templates/digest.html.j2"))?;
    Ok(env)
}

fn auto_escape_for(name: &str) -> AutoEscape {
    if name.ends_with(".html.j2") || name.ends_with(".html") {
        AutoEscape::Html
    } else {
        AutoEscape::None
    }
}

/// NaN would otherwise sort first under `total_cmp`; it means "no score".
fn sort_key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

/// The URL to put in an `href`, or `None` when it is not plain http(s).
/// Allow-listing the scheme is what keeps `javascript:`, `data:` and
/// friends out, however they are spelled.
fn safe_href(url: &str) -> Option<String> {
    let url = url.trim();
    // Browsers drop tabs and newlines inside URLs, so a URL containing them
    // is not the URL we checked.
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let (scheme, rest) = url.split_once(':')?;
    let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let host = rest.strip_prefix("//")?;
    (web && !host.is_empty() && !host.starts_with('/')).then(|| url.to_owned())
}

fn parse_mailbox(address: &str) -> Result<Mailbox, DigestError> {
    address
        .parse::<Mailbox>()
        .map_err(|source| DigestError::Address {
            address: address.to_owned(),
            source,
        })
}

/// Checks a list id is `label.namespace` made of dot-atom text (RFC 2919),
/// so it cannot break out of the `<...>` it is written in.
fn checked_list_id(id: &str) -> Result<&str, DigestError> {
    let inner = id.trim();
    let inner = inner
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(inner);
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let valid = inner.contains('.')
        && inner
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    if valid {
        Ok(inner)
    } else {
        Err(DigestError::ListId(id.to_owned()))
    }
}

/// The `Date` header's time, clamped to what the header can express
/// (lettre's formatter panics outside 1970..=9999).
fn mail_date(date: DateTime<Utc>) -> SystemTime {
    let max = Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    SystemTime::from(date.clamp(DateTime::<Utc>::UNIX_EPOCH, max))
}

fn format_datetime(t: &DateTime<Tz>, lang: Language) -> String {
    match lang {
        Language::En => t.format("%Y-%m-%d %H:%M %Z").to_string(),
        Language::Fr => t.format("%d/%m/%Y %H:%M %Z").to_string(),
    }
}

fn format_date(t: &DateTime<Tz>, lang: Language) -> String {
    match lang {
        Language::En => t.format("%Y-%m-%d").to_string(),
        Language::Fr => t.format("%d/%m/%Y").to_string(),
    }
}

fn title_of(o: &Offer, l: Labels) -> String {
    non_empty(Some(&o.title), TITLE_CHARS).unwrap_or_else(|| l.untitled.to_owned())
}

fn non_empty(s: Option<&str>, max: usize) -> Option<String> {
    s.map(|s| one_line(s, max)).filter(|s| !s.is_empty())
}

fn join(items: &[String]) -> Option<String> {
    let parts: Vec<String> = items
        .iter()
        .map(|s| one_line(s, FIELD_CHARS))
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Web text as one clean line: control characters, line breaks and runs of
/// whitespace become one space; bidi overrides (used to disguise text) are
/// dropped; then it is cut to `max` characters.
fn one_line(s: &str, max: usize) -> String {
    truncate(super::flatten(s), max)
}

/// Cuts `s` to at most `max` characters (plus "…"), on a char boundary,
/// preferring a word boundary close to the cut.
fn truncate(s: String, max: usize) -> String {
    let Some((cut, _)) = s.char_indices().nth(max) else {
        return s;
    };
    let head = &s[..cut];
    let head = match head.rfind(' ') {
        Some(space) if head[space..].chars().count() <= 30 => &head[..space],
        _ => head,
    };
    let mut out = head.trim_end().to_owned();
    out.push('…');
    out
}

/// Greedy word wrap at `width` characters; a longer word gets its own line.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let wlen = word.chars().count();
        if len > 0 && len + 1 + wlen > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += wlen;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailparse::MailHeaderMap;

    fn offer(id: &str, title: &str) -> Offer {
        Offer {
            id: id.to_owned(),
            title: title.to_owned(),
            company: Some("Acme".to_owned()),
            location: Some("Paris".to_owned()),
            url: Some(format!("https://jobs.example.com/{id}")),
            published: Utc.with_ymd_and_hms(2024, 5, 6, 22, 30, 0).single(),
            first_seen: Utc.with_ymd_and_hms(2024, 5, 7, 6, 0, 0).unwrap(),
            summary: Some("Build things in Rust.".to_owned()),
            remote: Some(true),
            contract: Some("CDI".to_owned()),
            sources: vec!["hn".to_owned(), "wttj".to_owned()],
            matches: vec!["alice".to_owned()],
            tags: vec![],
            valid_through: None,
            salary: None,
        }
    }

    fn now() -> DateTime<Tz> {
        chrono_tz::Europe::Paris
            .with_ymd_and_hms(2024, 5, 7, 9, 0, 0)
            .unwrap()
    }

    fn digest<'a>(offers: &'a [Offer], words: &'a [String], lang: Language) -> Digest<'a> {
        Digest {
            profile: "alice",
            language: lang,
            entries: offers
                .iter()
                .enumerate()
                .map(|(i, o)| Entry {
                    offer: o,
                    score: i as f32,
                    words,
                })
                .collect(),
            failing: vec![],
            now: now(),
            max_offers: 20,
        }
    }

    fn failing() -> FailingSource {
        FailingSource {
            name: "board<x>".to_owned(),
            since: Utc.with_ymd_and_hms(2024, 5, 6, 8, 0, 0).unwrap(),
            error: "HTTP 503\nService Unavailable".to_owned(),
        }
    }

    /// Every `href="..."` value in `html`, still entity-escaped.
    fn hrefs(html: &str) -> Vec<&str> {
        html.split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect()
    }

    fn unescape(s: &str) -> String {
        s.replace("&#x2f;", "/")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    #[test]
    fn subjects_singular_plural_en_fr() {
        let offers = [offer("1", "A"), offer("2", "B")];
        let words = vec!["rust".to_owned()];
        let cases = [
            (1, Language::En, "[veille] 1 new offer for alice"),
            (2, Language::En, "[veille] 2 new offers for alice"),
            (1, Language::Fr, "[veille] 1 nouvelle offre pour alice"),
            (2, Language::Fr, "[veille] 2 nouvelles offres pour alice"),
        ];
        for (n, lang, want) in cases {
            let r = render(&digest(&offers[..n], &words, lang)).unwrap();
            assert_eq!(r.subject, want);
        }
    }

    #[test]
    fn default_language_is_english() {
        assert_eq!(Language::default(), Language::En);
    }

    #[test]
    fn subject_has_no_line_breaks() {
        let offers = [offer("1", "A")];
        let mut d = digest(&offers, &[], Language::En);
        d.profile = "bob\r\nBcc: evil@example.com";
        let r = render(&d).unwrap();
        assert!(!r.subject.contains(['\r', '\n']), "{:?}", r.subject);
    }

    #[test]
    fn entries_sorted_by_score_stable() {
        let offers = [
            offer("1", "Low"),
            offer("2", "TieFirst"),
            offer("3", "High"),
            offer("4", "TieSecond"),
            offer("5", "NoScore"),
        ];
        let mut d = digest(&offers, &[], Language::En);
        for (e, s) in d.entries.iter_mut().zip([0.1, 0.5, 0.9, 0.5, f32::NAN]) {
            e.score = s;
        }
        let r = render(&d).unwrap();
        for body in [r.text.clone(), unescape(&r.html)] {
            let pos: Vec<usize> = ["High", "TieFirst", "TieSecond", "Low", "NoScore"]
                .iter()
                .map(|t| body.find(t).unwrap())
                .collect();
            assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
        }
    }

    #[test]
    fn html_escapes_web_text() {
        let mut offers = [
            offer("1", "<script>alert(1)</script>"),
            offer("2", "Dev\" onmouseover=\"x"),
        ];
        offers[0].company = Some("<b>Evil</b> & Co".to_owned());
        let words = vec!["<img src=x>".to_owned()];
        let r = render(&digest(&offers, &words, Language::En)).unwrap();
        assert!(!r.html.contains("<script>"));
        assert!(
            r.html
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
        );
        assert!(!r.html.contains("\" onmouseover"));
        assert!(r.html.contains("Dev&quot; onmouseover=&quot;x"));
        assert!(!r.html.contains("<b>Evil"));
        assert!(!r.html.contains("<img"));
        // The text part is not HTML: it shows the text as is.
        assert!(r.text.contains("<script>alert(1)</script>"));
    }

    #[test]
    fn unsafe_urls_are_not_links() {
        let bad = [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "java\tscript:alert(1)",
            "vbscript:msgbox(1)",
            "http:/relative",
            "https://exa mple.com/",
        ];
        let offers: Vec<Offer> = bad
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let mut o = offer(&i.to_string(), &format!("T{i}"));
                o.url = Some((*u).to_owned());
                o
            })
            .collect();
        // Half shown in full, half as overflow lines: both paths are checked.
        let mut d = digest(&offers, &[], Language::En);
        d.max_offers = 4;
        let r = render(&d).unwrap();
        let links = hrefs(&r.html);
        assert!(links.is_empty(), "{links:?}");
        assert!(!r.html.to_ascii_lowercase().contains("href=\"javascript"));
        // The URL is still shown, as text.
        assert!(r.html.contains("javascript:alert(1)"));
    }

    #[test]
    fn web_urls_are_links() {
        let mut offers = [offer("1", "A"), offer("2", "B")];
        offers[1].url = Some("HTTPS://x.example/a?b=1&c=\"2\"".to_owned());
        let r = render(&digest(&offers, &[], Language::En)).unwrap();
        let links: Vec<String> = hrefs(&r.html).into_iter().map(unescape).collect();
        assert!(links.contains(&"https://jobs.example.com/1".to_owned()));
        assert!(links.contains(&"HTTPS://x.example/a?b=1&c=\"2\"".to_owned()));
        assert!(
            links
                .iter()
                .all(|l| l.to_ascii_lowercase().starts_with("http"))
        );
    }

    #[test]
    fn offer_fields_shown() {
        let offers = [offer("1", "Rust dev")];
        let words = vec!["rust".to_owned(), "tokio".to_owned()];
        let r = render(&digest(&offers, &words, Language::En)).unwrap();
        for body in [r.text.clone(), unescape(&r.html)] {
            for want in [
                "Rust dev",
                "Acme",
                "Paris",
                "CDI",
                "seen on",
                "hn, wttj",
                "matched",
                "rust, tokio",
                "Build things in Rust.",
                // Published 22:30 UTC is the next day in Paris.
                "2024-05-07",
            ] {
                assert!(body.contains(want), "{want:?} missing from {body}");
            }
        }
        assert!(
            r.text.contains("\n   https://jobs.example.com/1\n"),
            "{}",
            r.text
        );
    }

    #[test]
    fn french_labels() {
        let offers = [offer("1", "Dév Rust")];
        let words = vec!["rust".to_owned()];
        let mut d = digest(&offers, &words, Language::Fr);
        d.failing = vec![failing()];
        let r = render(&d).unwrap();
        for body in [r.text.clone(), unescape(&r.html)] {
            for want in [
                "Vu sur",
                "Mots trouvés",
                "Entreprise",
                "Lieu",
                "Télétravail",
                "oui",
                "07/05/2024",
                "Sources en échec",
                "06/05/2024 10:00 CEST",
            ] {
                assert!(body.contains(want), "{want:?} missing from {body}");
            }
        }
    }

    #[test]
    fn overflow_listed_as_lines() {
        let offers: Vec<Offer> = (0..5)
            .map(|i| offer(&i.to_string(), &format!("Job{i}")))
            .collect();
        let mut d = digest(&offers, &[], Language::En);
        d.max_offers = 2;
        let r = render(&d).unwrap();
        assert_eq!(r.subject, "[veille] 5 new offers for alice");
        // Scores are 0..5, so Job4 and Job3 are shown in full.
        for i in 0..3 {
            let line = format!("- Job{i} — https://jobs.example.com/{i}\n");
            assert!(r.text.contains(&line), "{line:?} missing from {}", r.text);
            assert!(r.html.contains(&format!("Job{i}")));
        }
        assert!(r.text.contains("More offers"));
        // Only the full entries carry details.
        assert_eq!(r.text.matches("seen on").count(), 2);
        assert_eq!(r.html.matches("seen on").count(), 2);
    }

    #[test]
    fn zero_max_offers_lists_everything_as_lines() {
        let offers = [offer("1", "Only")];
        let mut d = digest(&offers, &[], Language::En);
        d.max_offers = 0;
        let r = render(&d).unwrap();
        assert!(r.text.contains("- Only — https://jobs.example.com/1"));
    }

    #[test]
    fn failing_sources_only() {
        for (lang, subject, intro) in [
            (
                Language::En,
                "[veille] Sources failing for alice",
                "could not be fetched",
            ),
            (
                Language::Fr,
                "[veille] Sources en échec pour alice",
                "n’ont pas pu",
            ),
        ] {
            let mut d = digest(&[], &[], lang);
            d.failing = vec![failing()];
            let r = render(&d).unwrap();
            assert_eq!(r.subject, subject);
            for body in [r.text.clone(), unescape(&r.html)] {
                assert!(body.contains(intro), "{body}");
                assert!(body.contains("HTTP 503 Service Unavailable"), "{body}");
                assert!(body.contains("10:00 CEST"), "{body}");
            }
            assert!(r.text.contains("board<x>"));
            assert!(r.html.contains("board&lt;x&gt;"));
        }
    }

    #[test]
    fn footer_lists_failing_sources() {
        let offers = [offer("1", "A")];
        let mut d = digest(&offers, &[], Language::En);
        d.failing = vec![failing()];
        let r = render(&d).unwrap();
        assert_eq!(r.subject, "[veille] 1 new offer for alice");
        for body in [r.text.clone(), unescape(&r.html)] {
            let offer_at = body.find("jobs.example.com/1").unwrap();
            let failing_at = body.find("Sources failing").unwrap();
            assert!(offer_at < failing_at);
        }
    }

    #[test]
    fn no_failing_section_when_all_sources_work() {
        let offers = [offer("1", "A")];
        let r = render(&digest(&offers, &[], Language::En)).unwrap();
        assert!(!r.text.contains("Sources failing"));
        assert!(!r.html.contains("Sources failing"));
    }

    #[test]
    fn html_for_50_big_offers_is_small() {
        let big = "Lorem ipsum <dolor> sit amet, \"consectetur\" & adipiscing élit. ".repeat(70);
        assert!(big.chars().count() >= 4000);
        let offers: Vec<Offer> = (0..50)
            .map(|i| {
                let mut o = offer(&i.to_string(), &format!("Senior Rust engineer {i}"));
                o.summary = Some(big.clone());
                o
            })
            .collect();
        let words = vec!["rust".to_owned(), "tokio".to_owned(), "linux".to_owned()];
        let mut d = digest(&offers, &words, Language::Fr);
        d.max_offers = 50;
        d.failing = vec![failing()];
        let r = render(&d).unwrap();
        eprintln!(
            "html for 50 offers: {} bytes; text: {} bytes",
            r.html.len(),
            r.text.len()
        );
        assert!(r.html.len() < 100 * 1024, "{} bytes", r.html.len());
        assert!(r.html.contains('…'));
        assert!(!r.html.contains(&big[..1000]));
    }

    #[test]
    fn html_is_mail_friendly() {
        let offers = [offer("1", "A")];
        let r = render(&digest(&offers, &[], Language::En)).unwrap();
        assert!(r.html.contains("max-width:640px"));
        assert!(r.html.contains("charset=\"utf-8\""));
        assert!(!r.html.contains("<style"));
        assert!(!r.html.contains("<link"));
        assert!(!r.html.contains("<img"));
        assert!(!r.html.contains("src="));
        assert!(r.html.contains("<html lang=\"en\">"));
    }

    #[test]
    fn templates_escape_by_name() {
        assert_eq!(auto_escape_for(HTML_TEMPLATE), AutoEscape::Html);
        assert_eq!(auto_escape_for(TEXT_TEMPLATE), AutoEscape::None);
        // minijinja's own default agrees, should the callback ever go.
        assert_eq!(
            minijinja::default_auto_escape_callback(HTML_TEMPLATE),
            AutoEscape::Html
        );
    }

    #[test]
    fn truncation_is_char_safe() {
        let s = "é".repeat(400);
        let t = one_line(&s, SUMMARY_CHARS);
        assert_eq!(t.chars().count(), SUMMARY_CHARS + 1);
        assert!(t.ends_with('…'));
        assert_eq!(one_line("short", 10), "short");
        assert_eq!(one_line("  a\r\n\tb\u{202e}c  ", 10), "a bc");
        let words = one_line(&"word ".repeat(100), 12);
        assert_eq!(words, "word word…");
    }

    #[test]
    fn wrap_lines() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(
            wrap("averyverylongword x", 5),
            vec!["averyverylongword", "x"]
        );
        assert!(wrap("", 5).is_empty());
    }

    #[test]
    fn list_id_checked() {
        assert_eq!(
            checked_list_id("alice.veille.localhost").unwrap(),
            "alice.veille.localhost"
        );
        assert_eq!(checked_list_id("<a.b>").unwrap(), "a.b");
        for bad in [
            "",
            "nodot",
            "a..b",
            ".a",
            "a>b.c",
            "a b.c",
            "a.b\r\nX: y",
            "é.fr",
        ] {
            assert!(checked_list_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mail_date_never_out_of_range() {
        for d in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = header::Date::new(mail_date(d));
        }
    }

    fn message_for(lang: Language) -> (Rendered, Vec<u8>) {
        let offers = [offer("1", "Développeur Rust — été"), offer("2", "B")];
        let words = vec!["rust".to_owned()];
        let r = render(&digest(&offers, &words, lang)).unwrap();
        let to = vec!["alice@example.com".to_owned()];
        let env = Envelope {
            from: "veille <veille@localhost>",
            to: &to,
            list_id: "alice.veille.localhost",
            date: Utc.with_ymd_and_hms(2024, 5, 7, 7, 0, 0).unwrap(),
        };
        let bytes = to_message(&r, &env).unwrap();
        (r, bytes)
    }

    #[test]
    fn message_parses_back() {
        let (r, bytes) = message_for(Language::Fr);
        let mail = mailparse::parse_mail(&bytes).unwrap();
        let get = |name: &str| {
            mail.headers
                .get_first_value(name)
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        assert_eq!(get("Subject"), "[veille] 2 nouvelles offres pour alice");
        assert_eq!(get("Subject"), r.subject);
        assert!(get("From").contains("veille@localhost"));
        assert!(get("To").contains("alice@example.com"));
        assert_eq!(get("List-Id"), "veille <alice.veille.localhost>");
        assert_eq!(get("MIME-Version"), "1.0");
        assert!(get("Message-ID").starts_with('<'));
        assert_eq!(get("Auto-Submitted"), "auto-generated");
        let date = mailparse::dateparse(&get("Date")).unwrap();
        assert_eq!(date, 1_715_065_200);
        assert_eq!(mail.ctype.mimetype, "multipart/alternative");
        assert_eq!(mail.subparts.len(), 2);
        let text = &mail.subparts[0];
        let html = &mail.subparts[1];
        assert_eq!(text.ctype.mimetype, "text/plain");
        assert_eq!(html.ctype.mimetype, "text/html");
        assert_eq!(text.ctype.charset.to_ascii_lowercase(), "utf-8");
        assert_eq!(html.ctype.charset.to_ascii_lowercase(), "utf-8");
        let text_body = text.get_body().unwrap();
        assert!(text_body.contains("Développeur Rust — été"));
        assert!(text_body.contains("Mots trouvés"));
        assert_eq!(text_body.replace("\r\n", "\n"), r.text);
        assert_eq!(html.get_body().unwrap().replace("\r\n", "\n"), r.html);
        // Raw headers stay ASCII; the accented subject is RFC 2047 encoded.
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        assert!(bytes[..head_end].is_ascii());
    }

    #[test]
    fn accented_subject_is_encoded_and_decodes_back() {
        let mut d = digest(&[], &[], Language::Fr);
        d.failing = vec![failing()];
        let r = render(&d).unwrap();
        let to = vec!["alice@example.com".to_owned()];
        let env = Envelope {
            from: "veille@localhost",
            to: &to,
            list_id: "alice.veille.localhost",
            date: Utc::now(),
        };
        let bytes = to_message(&r, &env).unwrap();
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = std::str::from_utf8(&bytes[..head_end]).unwrap();
        assert!(head.is_ascii());
        assert!(head.contains("=?utf-8?"), "{head}");
        let mail = mailparse::parse_mail(&bytes).unwrap();
        assert_eq!(
            mail.headers.get_first_value("Subject").as_deref(),
            Some("[veille] Sources en échec pour alice")
        );
        let text = mail.subparts[0].get_body().unwrap();
        assert!(text.contains("Sources en échec") && text.contains("n’ont pas pu"));
    }

    #[test]
    fn message_rejects_bad_envelopes() {
        let r = Rendered {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        };
        let to = vec!["alice@example.com".to_owned()];
        let good = Envelope {
            from: "veille@localhost",
            to: &to,
            list_id: "a.b",
            date: Utc::now(),
        };
        assert!(to_message(&r, &good).is_ok());
        let bad_to = vec!["not an address".to_owned()];
        assert!(matches!(
            to_message(
                &r,
                &Envelope {
                    to: &bad_to,
                    ..good
                }
            ),
            Err(DigestError::Address { .. })
        ));
        assert!(matches!(
            to_message(&r, &Envelope { to: &[], ..good }),
            Err(DigestError::NoRecipient)
        ));
        assert!(matches!(
            to_message(
                &r,
                &Envelope {
                    list_id: "x",
                    ..good
                }
            ),
            Err(DigestError::ListId(_))
        ));
        assert!(matches!(
            to_message(&r, &Envelope { from: "<>", ..good }),
            Err(DigestError::Address { .. })
        ));
    }

    #[test]
    fn message_subject_injection_is_flattened() {
        let r = Rendered {
            subject: "hi\r\nBcc: evil@example.com".into(),
            text: "t".into(),
            html: "h".into(),
        };
        let to = vec!["alice@example.com".to_owned()];
        let env = Envelope {
            from: "veille@localhost",
            to: &to,
            list_id: "a.b",
            date: Utc::now(),
        };
        let bytes = to_message(&r, &env).unwrap();
        let mail = mailparse::parse_mail(&bytes).unwrap();
        let bcc = mail.headers.get_first_value("Bcc");
        assert_eq!(bcc, None);
    }

    #[test]
    fn delivered_message_reads_back() {
        let (r, bytes) = message_for(Language::En);
        let root = tempfile::tempdir().unwrap();
        let path = crate::notify::maildir::deliver(root.path(), &bytes).unwrap();
        let list = |sub: &str| std::fs::read_dir(root.path().join(sub)).unwrap().count();
        assert_eq!(list("new"), 1);
        assert_eq!(list("tmp"), 0);
        let back = std::fs::read(path).unwrap();
        assert_eq!(back, bytes);
        let mail = mailparse::parse_mail(&back).unwrap();
        let subject = mail.headers.get_first_value("Subject");
        assert_eq!(subject.as_deref(), Some(r.subject.as_str()));
        assert_eq!(mail.subparts.len(), 2);
    }
}
