//! Entry points for the fuzz targets in `fuzz/` and for the regression test
//! that replays every input they ever crashed on (`tests/fuzz_regressions.rs`).
//!
//! Each takes raw bytes, runs one parser of veille on them the way a poll
//! would, and returns nothing: a target fails only by panicking, looping or
//! exhausting memory. Keeping them here, not in `fuzz/`, means the fuzzer and
//! the regression test run exactly the same code on stable and nightly alike.

use std::path::Path;
use std::sync::OnceLock;

use url::Url;

use crate::matcher::{Indexed, Matcher, MatcherSet, OfferText, Pattern, ProfileSpec, Query};
use crate::source::ats;
use crate::source::page::Selectors;
use crate::source::{feed, page};

fn base() -> Url {
    // A constant, valid URL.
    Url::parse("https://jobs.example.org/careers/feed").unwrap_or_else(|_| unreachable!())
}

/// The content types a fetched body may arrive with; the first byte of the
/// input picks one, so the fuzzer also explores charset handling.
const CONTENT_TYPES: [Option<&str>; 6] = [
    None,
    Some("application/rss+xml"),
    Some("application/atom+xml; charset=iso-8859-1"),
    Some("application/feed+json"),
    Some("text/xml; charset=utf-16"),
    Some("text/html; charset=windows-1252"),
];

fn split_first(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&b, rest)) => (b, rest),
        None => (0, data),
    }
}

/// The feed adapter (RSS, Atom, JSON Feed) on a body.
pub fn feed(data: &[u8]) {
    let (pick, body) = split_first(data);
    let ct = CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()];
    let _ = feed::parse(body, ct, &base());
}

fn selectors() -> Option<&'static Selectors> {
    static SELECTORS: OnceLock<Option<Selectors>> = OnceLock::new();
    SELECTORS
        .get_or_init(|| {
            Selectors::compile(
                "li.job, article",
                Some("h2, a"),
                Some("a@href"),
                Some(".company"),
                Some(".location"),
                Some("time@datetime"),
            )
            .ok()
        })
        .as_ref()
}

/// Page extraction: JSON-LD JobPostings, with and without CSS selectors.
pub fn page(data: &[u8]) {
    let (pick, body) = split_first(data);
    let ct = CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()];
    let sel = if pick & 0x80 != 0 { selectors() } else { None };
    let _ = page::parse(body, ct, &base(), sel, Some("Acme"));
}

/// Every ATS adapter on a JSON (or, for Personio, XML) body; the first byte
/// picks the vendor.
pub fn ats(data: &[u8]) {
    let (pick, body) = split_first(data);
    let ats = ats::ALL[usize::from(pick) % ats::ALL.len()];
    let Ok(url) = ats.endpoint("acme") else {
        return;
    };
    let _ = ats.parse(body, &url, "Acme");
}

/// The query language and the pattern parser; what parses is evaluated on
/// an offer made of the same text, so the indexer is exercised too, both
/// alone and through a [`MatcherSet`], which must agree.
pub fn query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let tags = [text.to_string()];
    let offer = Indexed::new(&OfferText {
        title: &text,
        company: Some(&text),
        location: Some(&text),
        contract: Some(&text),
        tags: &tags,
        summary: Some(&text),
        remote: None,
    });
    let query = Query::parse(&text).ok();
    let pattern = Pattern::parse(&text).ok();
    let pats: Vec<Pattern> = pattern.into_iter().collect();
    let matchers = vec![
        Matcher::new(ProfileSpec {
            query,
            keywords: pats.clone(),
            exclude: Vec::new(),
            locations: pats.clone(),
            block_companies: Vec::new(),
        }),
        Matcher::new(ProfileSpec {
            exclude: pats.clone(),
            block_companies: pats,
            ..ProfileSpec::default()
        }),
    ];
    let set = MatcherSet::new(matchers.clone());
    let mut eval = set.on(&offer);
    for (k, m) in matchers.iter().enumerate() {
        assert_eq!(
            eval.evaluate(k),
            m.evaluate(&offer),
            "profile {k} on {text:?}"
        );
    }
}

/// The watchlist compiler on a file's text (it reads no other file).
pub fn watchlist(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = crate::config::compile(Path::new("/fuzz/watchlist.toml"), text) {
        // Rendering the problems is part of the compiler's job.
        let _ = e.to_string();
    }
}
