//! Atom channel: a profile's latest matches as an Atom 1.0 feed file that
//! any feed reader can subscribe to.
//!
//! Owns: the feed's shape (ids, dates, links, categories), keeping web text
//! valid in XML (the `atom_syndication` writer escapes markup; this module
//! drops the characters XML 1.0 cannot carry at all), and replacing the file
//! atomically so a reader never sees half a feed.
//! Does not own: choosing which matches are in the feed (the caller passes
//! them), scheduling the rewrite, or serving the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use atom_syndication::{
    Category, Entry, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig,
};
use chrono::{DateTime, TimeZone, Utc};

use crate::offer::Offer;

/// How many matches a feed holds.
pub const LIMIT: usize = 200;

/// Caps on web text, so one runaway feed cannot bloat ours.
const TITLE_CHARS: usize = 300;
const FIELD_CHARS: usize = 200;
const SUMMARY_CHARS: usize = 2000;

/// How many fresh temporary names to try before giving up (only a foreign
/// writer using our naming scheme can cause a clash).
const TEMP_ATTEMPTS: usize = 16;

/// Distinguishes temporary files of this process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The profile's last `limit` (200) matches as an Atom 1.0 feed (newest
/// first): id urn:veille:PROFILE, title, updated, one entry per offer (id
/// urn:veille:offer:ID, title, link when http(s), updated = first_seen,
/// published, summary plain text, author = company, categories = tags +
/// contract).
///
/// `offers` may come in any order and number: they are sorted by first seen
/// (newest first, ties in the given order) and cut to [`LIMIT`]. The feed's
/// `updated` is its newest entry's first seen, so rewriting an unchanged
/// feed does not make readers think it changed; `now` stands in for an
/// empty feed.
pub fn render(profile: &str, offers: &[&Offer], now: DateTime<Utc>) -> String {
    let mut newest = offers.to_vec();
    // Stable, so offers seen at the same instant keep the caller's order.
    newest.sort_by_key(|o| std::cmp::Reverse(o.first_seen));
    newest.truncate(LIMIT);

    let updated = newest.first().map_or(now, |o| o.first_seen);
    let feed = Feed {
        id: format!("urn:veille:{}", urn_part(profile)),
        title: Text::plain(format!("veille: offers for {}", line(profile, FIELD_CHARS))),
        updated: fixed(updated),
        // Atom wants an author on the feed when some entry has none (offers
        // without a company).
        authors: vec![person("veille")],
        generator: Some(Generator {
            value: "veille".to_owned(),
            ..Generator::default()
        }),
        entries: newest.iter().map(|o| entry(o)).collect(),
        ..Feed::default()
    };
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    // Writing to a Vec has no I/O to fail, and every string in the feed is
    // UTF-8; an empty document stands in rather than a panic.
    let bytes = feed
        .write_with_config(Vec::new(), config)
        .unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// One offer as an entry.
fn entry(o: &Offer) -> Entry {
    let title = line(&o.title, TITLE_CHARS);
    let mut categories: Vec<Category> = Vec::new();
    for term in o.tags.iter().chain(o.contract.as_ref()) {
        let term = line(term, FIELD_CHARS);
        if !term.is_empty() && !categories.iter().any(|c| c.term == term) {
            categories.push(Category {
                term,
                ..Category::default()
            });
        }
    }
    Entry {
        id: format!("urn:veille:offer:{}", urn_part(&o.id)),
        title: Text::plain(if title.is_empty() {
            "(untitled)".to_owned()
        } else {
            title
        }),
        updated: fixed(o.first_seen),
        published: o.published.map(fixed),
        links: link(o.url.as_deref())
            .map(|href| Link {
                href,
                rel: "alternate".to_owned(),
                ..Link::default()
            })
            .into_iter()
            .collect(),
        summary: o
            .summary
            .as_deref()
            .map(|s| text(s, SUMMARY_CHARS))
            .filter(|s| !s.is_empty())
            .map(Text::plain),
        authors: o
            .company
            .as_deref()
            .map(|c| line(c, FIELD_CHARS))
            .filter(|c| !c.is_empty())
            .map(|c| person(&c))
            .into_iter()
            .collect(),
        categories,
        ..Entry::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: name.to_owned(),
        ..Person::default()
    }
}

/// An RFC 3339 date readers accept: years outside 1..=9999 (a broken
/// source) would print as `+10000-…`, which is not one.
fn fixed(t: DateTime<Utc>) -> FixedDateTime {
    let min = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single();
    let max = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single();
    let t = match (min, max) {
        (Some(min), Some(max)) => t.clamp(min, max),
        _ => t,
    };
    t.fixed_offset()
}

/// The link target, only for absolute http(s) URLs with a host: a feed
/// reader would follow `javascript:` or `data:` as readily as the rest.
fn link(raw: Option<&str>) -> Option<String> {
    let url = url::Url::parse(raw?.trim()).ok()?;
    let web = matches!(url.scheme(), "http" | "https");
    (web && url.host_str().is_some_and(|h| !h.is_empty())).then(|| url.into())
}

/// A name as a URN part: unreserved ASCII as is, anything else
/// percent-encoded, so ids stay valid IRIs whatever a source sent.
fn urn_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Characters XML 1.0 cannot hold even escaped (C0 controls other than
/// tab, LF and CR; U+FFFE, U+FFFF), C1 controls, and bidi overrides (used
/// to disguise text).
fn unwanted(c: char) -> bool {
    matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Web text as one line: controls and runs of whitespace become one space,
/// unwanted characters go, and it is cut to `max` characters.
fn line(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in s.chars().filter(|&c| !unwanted(c)) {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    cut(out, max)
}

/// Web text keeping its line breaks (a summary): other controls become
/// spaces, unwanted characters go, and it is cut to `max` characters.
fn text(s: &str, max: usize) -> String {
    let normalised = s.replace("\r\n", "\n");
    let out: String = normalised
        .chars()
        .filter(|&c| !unwanted(c))
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    cut(out.trim().to_owned(), max)
}

fn cut(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => {
            let mut out = s[..at].trim_end().to_owned();
            out.push('…');
            out
        }
        None => s,
    }
}

/// Writes `content` to `path` atomically: a temp file in the same folder,
/// fsync, rename, fsync the folder. Creates the folder if missing.
///
/// Readers see the old file or the new one, never a mix; on error the
/// temporary file is removed when possible and the old file is untouched.
/// The new file gets default permissions (the process umask), not the old
/// file's.
pub fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        ));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;

    let (tmp, mut file) = create_temp(dir, &name.to_string_lossy())?;
    let written = file.write_all(content).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        // Best effort: the write or rename error is the one worth reporting.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is durable only once the folder's entry is on disk.
    File::open(dir)?.sync_all()
}

/// A new hidden file next to the target; `create_new` makes a name clash
/// an error instead of an overwrite.
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..TEMP_ATTEMPTS {
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn offer(id: &str, title: &str, seen_hour: u32) -> Offer {
        Offer {
            id: id.to_owned(),
            title: title.to_owned(),
            company: Some("Acme & Co".to_owned()),
            location: Some("Rouen".to_owned()),
            url: Some(format!("https://jobs.example.com/{id}?a=1&b=2")),
            published: Utc.with_ymd_and_hms(2024, 5, 6, 22, 30, 0).single(),
            first_seen: Utc.with_ymd_and_hms(2024, 5, 7, seen_hour, 0, 0).unwrap(),
            summary: Some("Build things\r\nin Rust.".to_owned()),
            remote: Some(true),
            contract: Some("internship".to_owned()),
            sources: vec!["wttj".to_owned()],
            matches: vec!["alice".to_owned()],
            tags: vec!["backend".to_owned(), "internship".to_owned()],
            valid_through: None,
            salary: None,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 7, 12, 0, 0).unwrap()
    }

    #[test]
    fn round_trips_newest_first() {
        let older = offer("a1", "Rust intern", 6);
        let mut newer = offer("b2", "Backend apprentice", 9);
        newer.url = Some("javascript:alert(1)".to_owned());
        newer.company = None;
        newer.published = None;
        newer.summary = None;
        newer.tags = vec![];
        newer.contract = None;
        let xml = render("alice", &[&older, &newer], now());
        assert!(xml.starts_with("<?xml version=\"1.0\"?>"), "{xml}");

        let feed = Feed::from_str(&xml).unwrap();
        assert_eq!(feed.id, "urn:veille:alice");
        assert_eq!(feed.title.as_str(), "veille: offers for alice");
        assert_eq!(feed.updated, newer.first_seen.fixed_offset());
        assert_eq!(feed.entries.len(), 2);

        let first = &feed.entries[0];
        assert_eq!(first.id, "urn:veille:offer:b2");
        assert_eq!(first.title.as_str(), "Backend apprentice");
        assert!(first.links.is_empty(), "javascript: is not a link");
        assert!(first.authors.is_empty());
        assert!(first.published.is_none());
        assert!(first.summary.is_none());

        let second = &feed.entries[1];
        assert_eq!(second.id, "urn:veille:offer:a1");
        assert_eq!(second.links.len(), 1);
        assert_eq!(second.links[0].href, "https://jobs.example.com/a1?a=1&b=2");
        assert_eq!(second.links[0].rel, "alternate");
        assert_eq!(second.updated, older.first_seen.fixed_offset());
        assert_eq!(second.published, older.published.map(|p| p.fixed_offset()));
        assert_eq!(
            second.summary.as_ref().unwrap().as_str(),
            "Build things\nin Rust."
        );
        assert_eq!(second.authors[0].name, "Acme & Co");
        let terms: Vec<&str> = second.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["backend", "internship"], "deduplicated");
    }

    #[test]
    fn hostile_text_is_escaped_or_dropped() {
        let title = "<script>alert(1)</script> ]]> a\u{0}b\u{1}c\u{b}d\u{fffe}e\u{202e}f";
        let mut o = offer("x<y>&\"z", title, 6);
        o.summary = Some("<![CDATA[ ]]> \u{7}bell".to_owned());
        o.company = Some("</name><evil/>".to_owned());
        o.tags = vec!["\"quoted\" & <tag>".to_owned()];
        let xml = render("ali<ce>\n", &[&o], now());
        assert!(!xml.contains("<script>"), "{xml}");
        assert!(!xml.contains("]]>"), "{xml}");
        assert!(!xml.contains("<evil/>"), "{xml}");
        assert!(
            !xml.chars()
                .any(|c| (c.is_control() && c != '\n') || unwanted(c)),
            "{xml:?}"
        );

        let feed = Feed::from_str(&xml).unwrap();
        assert_eq!(feed.id, "urn:veille:ali%3Cce%3E%0A");
        assert_eq!(feed.title.as_str(), "veille: offers for ali<ce>");
        let entry = &feed.entries[0];
        assert_eq!(entry.id, "urn:veille:offer:x%3Cy%3E%26%22z");
        assert_eq!(
            entry.title.as_str(),
            "<script>alert(1)</script> ]]> a b c def"
        );
        assert_eq!(
            entry.summary.as_ref().unwrap().as_str(),
            "<![CDATA[ ]]>  bell"
        );
        assert_eq!(entry.authors[0].name, "</name><evil/>");
        assert_eq!(entry.categories[0].term, "\"quoted\" & <tag>");
    }

    #[test]
    fn keeps_the_newest_200() {
        let offers: Vec<Offer> = (0..250)
            .map(|i| {
                let mut o = offer(&i.to_string(), "Dev", 0);
                o.first_seen += chrono::Duration::minutes(i);
                o
            })
            .collect();
        let refs: Vec<&Offer> = offers.iter().collect();
        let feed = Feed::from_str(&render("alice", &refs, now())).unwrap();
        assert_eq!(feed.entries.len(), LIMIT);
        assert_eq!(feed.entries[0].id, "urn:veille:offer:249");
        assert_eq!(feed.entries[199].id, "urn:veille:offer:50");
    }

    #[test]
    fn empty_feed_is_valid_and_dated_now() {
        let feed = Feed::from_str(&render("alice", &[], now())).unwrap();
        assert!(feed.entries.is_empty());
        assert_eq!(feed.updated, now().fixed_offset());
        assert_eq!(feed.authors[0].name, "veille");
    }

    #[test]
    fn absurd_dates_are_clamped() {
        let mut o = offer("1", "Dev", 6);
        o.published = Utc.with_ymd_and_hms(20000, 1, 1, 0, 0, 0).single();
        let feed = Feed::from_str(&render("alice", &[&o], now())).unwrap();
        assert_eq!(
            feed.entries[0].published.unwrap().to_rfc3339(),
            "9999-12-31T23:59:59+00:00"
        );
    }

    #[test]
    fn write_atomic_creates_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds").join("alice.atom");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<String> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["alice.atom"]);
    }

    #[test]
    fn write_atomic_failure_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should go: the rename fails.
        let path = dir.path().join("alice.atom");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), b"x").unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["alice.atom"]);
        assert!(write_atomic(Path::new("/"), b"x").is_err());
    }
}
