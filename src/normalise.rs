//! Normalisation helpers shared by the source adapters: canonical URLs, link
//! resolution, HTML-to-text, whitespace folding and decoding fetched bodies
//! into UTF-8.
//!
//! Owns: pure functions with no I/O and no knowledge of any source format;
//! every one of them accepts any input without panicking.
//! Does not own: fetching (HTTP, compression, redirects), parsing feeds or
//! pages (`source::*`), offer identity and deduplication (the store), or
//! matching.

use std::borrow::Cow;
use std::ops::Range;

use encoding_rs::Encoding;
use scraper::{Html, Node};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use url::Url;

/// Canonical string form of `url`, used to compare and store offer links.
///
/// Contract: scheme and host lower-case (the `url` crate already does it),
/// no fragment, no tracking parameters (`utm_*`, `gclid`, `fbclid`, `mc_*`,
/// `ref`; keys compared case-insensitively), the remaining query parameters
/// sorted by key then value (stable, original percent-encoding kept) and no
/// empty `?`. The path is kept as is.
pub fn canonical_url(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);

    let query = url.query().map(|query| {
        let mut params: Vec<(&str, &str, &str)> = query
            .split('&')
            .filter(|param| !param.is_empty())
            .map(|param| {
                let (key, value) = param.split_once('=').unwrap_or((param, ""));
                (key, value, param)
            })
            .filter(|(key, _, _)| !is_tracking_param(key))
            .collect();
        params.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        // The original segment is written back (not `key=value`) so that `a`
        // and `a=` stay distinct and no encoding is changed.
        params
            .iter()
            .map(|(_, _, param)| *param)
            .collect::<Vec<_>>()
            .join("&")
    });
    match query {
        Some(query) if !query.is_empty() => url.set_query(Some(&query)),
        _ => url.set_query(None),
    }
    url.into()
}

fn is_tracking_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_")
        || key.starts_with("mc_")
        || matches!(key.as_str(), "gclid" | "fbclid" | "ref")
}

/// Resolves `href` (trimmed) against `base`; `None` when it is empty,
/// unparsable, or not `http`/`https` once resolved (`mailto:`,
/// `javascript:`, `data:`…).
pub fn parse_link(href: &str, base: &Url) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        // `join("")` would silently return the base itself.
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// Elements whose content is never readable text.
const SKIPPED_ELEMENTS: &[&str] = &[
    "audio", "canvas", "embed", "head", "iframe", "math", "noscript", "object", "script", "select",
    "style", "svg", "template", "title", "video",
];

/// Elements that separate words, so that `<p>a</p><p>b</p>` gives `a b`.
const BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "img",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// How much HTML [`html_to_text`] reads, in bytes. html5ever's tree
/// builder takes time quadratic in nesting depth (64 KiB of nested `<div>`s
/// take seconds), so hostile input must be bounded; 32 KiB of markup gives
/// far more text than the 4000-character summaries veille keeps.
pub const HTML_TO_TEXT_MAX_BYTES: usize = 32 * 1024;

/// Plain text of an HTML fragment: tags stripped, `script`/`style` (and
/// other non-text elements) dropped, entities decoded, block elements turned
/// into word separators, whitespace collapsed as in [`plain`]. Only the
/// first [`HTML_TO_TEXT_MAX_BYTES`] of `html` are read.
///
/// Text that is not really HTML survives: `salary < 30k` and `R&D` are kept,
/// as an HTML5 parser treats a `<` not followed by a letter as text. A `<`
/// directly followed by a letter (`a<b`) does start a tag and is lost.
pub fn html_to_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return plain(html);
    }
    let html = html
        .get(..floor_char_boundary(html, HTML_TO_TEXT_MAX_BYTES))
        .unwrap_or(html);
    match simple_html_text(html) {
        Some(text) => plain(&text),
        None => plain(&parsed_html_text(html)),
    }
}

/// The text of `html` read by html5ever, before whitespace folding.
fn parsed_html_text(html: &str) -> String {
    let fragment = Html::parse_fragment(html);
    let mut text = String::with_capacity(html.len());
    // An explicit stack rather than recursion: hostile input can nest
    // elements deeply enough to overflow the call stack. Each level holds
    // the element's remaining children and whether it is a block.
    let mut stack = vec![(fragment.tree.root().children(), false)];
    while let Some((children, _)) = stack.last_mut() {
        let Some(node) = children.next() else {
            if let Some((_, true)) = stack.pop() {
                text.push(' ');
            }
            continue;
        };
        match node.value() {
            Node::Text(t) => text.push_str(t),
            Node::Element(element) => {
                let name = element.name();
                if SKIPPED_ELEMENTS.contains(&name) {
                    continue;
                }
                let block = BLOCK_ELEMENTS.contains(&name);
                if block {
                    text.push(' ');
                }
                stack.push((node.children(), block));
            }
            _ => {}
        }
    }
    text
}

/// Inline elements the fast path of [`html_to_text`] strips (no effect on
/// the text, whatever the nesting, in an HTML5 parser).
const SIMPLE_INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "del", "dfn", "em", "font", "i", "ins",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time",
    "tt", "u", "var", "wbr",
];

/// Block elements the fast path must leave to html5ever: the table and
/// form ones, which an HTML5 parser drops or moves in a fragment.
const MOVED_BLOCKS: &[&str] = &[
    "caption", "dialog", "form", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// Whether the fast path turns `name` into a space: a block of
/// [`BLOCK_ELEMENTS`] that is not in [`MOVED_BLOCKS`].
fn simple_block(name: &str) -> bool {
    BLOCK_ELEMENTS.contains(&name) && !MOVED_BLOCKS.contains(&name)
}

/// The fast path of [`html_to_text`], before whitespace folding: the text
/// of a fragment made only of text, the common entities and tags of
/// [`SIMPLE_INLINE`] / [`simple_block`] (with plain attributes), block
/// elements properly nested and closed, which is what html5ever would give.
/// `None` for anything else (comments, other elements, unusual entities or
/// syntax, blocks the parser would close or ignore), left to html5ever.
fn simple_html_text(html: &str) -> Option<String> {
    const VOID: &[&str] = &["br", "hr", "img"];
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    // Open block elements (inline ones do not matter to the text).
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    let mut copied = 0;
    while let Some(off) = bytes
        .get(i..)?
        .iter()
        .position(|&b| matches!(b, b'<' | b'&' | b'\0'))
    {
        i += off;
        out.push_str(html.get(copied..i)?);
        match bytes[i] {
            b'<' => match bytes.get(i + 1) {
                Some(c) if c.is_ascii_alphabetic() => {
                    let (name, end) = simple_tag(bytes, i + 1)?;
                    let name = name.as_str();
                    if simple_block(name) {
                        // Starts the parser would turn into implied ends.
                        let closes_p = !matches!(name, "br" | "img");
                        let heading =
                            |n: &str| matches!(n, "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
                        if (closes_p && open.last().is_some_and(|t| t == "p"))
                            || (name == "li" && open.iter().any(|t| t == "li"))
                            || (matches!(name, "dd" | "dt")
                                && open.iter().any(|t| t == "dd" || t == "dt"))
                            || (heading(name) && open.last().is_some_and(|t| heading(t)))
                        {
                            return None;
                        }
                        if !VOID.contains(&name) {
                            open.push(name.to_owned());
                        }
                        out.push(' ');
                    } else if !SIMPLE_INLINE.contains(&name) {
                        return None;
                    }
                    i = end;
                }
                Some(b'/') => {
                    if !bytes.get(i + 2)?.is_ascii_alphabetic() {
                        return None;
                    }
                    let (name, end) = simple_tag(bytes, i + 2)?;
                    let name = name.as_str();
                    if name == "br" {
                        // `</br>` is read as `<br>`.
                        out.push(' ');
                    } else if simple_block(name) {
                        // Only the innermost open block may end here.
                        if open.last().is_none_or(|t| t != name) {
                            return None;
                        }
                        open.pop();
                        out.push(' ');
                    } else if !SIMPLE_INLINE.contains(&name) {
                        return None;
                    }
                    i = end;
                }
                Some(b'!' | b'?') => return None,
                _ => {
                    out.push('<');
                    i += 1;
                }
            },
            b'&' => match bytes.get(i + 1) {
                Some(c) if c.is_ascii_alphanumeric() || *c == b'#' => {
                    let run = 1 + bytes
                        .get(i + 2..)?
                        .iter()
                        .position(|b| !b.is_ascii_alphanumeric())
                        .unwrap_or(bytes.len() - i - 2);
                    if bytes.get(i + 1 + run) == Some(&b';') {
                        out.push(simple_entity(html.get(i + 1..i + 1 + run)?)?);
                        i += run + 2;
                    } else if *c == b'#' || b"ACEGILNOQRTUYabcdefgilmnopqrstuy".contains(c) {
                        // Might be a numeric reference or a legacy entity
                        // without `;` (`&copy`), which the parser decodes.
                        return None;
                    } else {
                        // `R&D`: no entity starts with `D`.
                        out.push('&');
                        i += 1;
                    }
                }
                _ => {
                    out.push('&');
                    i += 1;
                }
            },
            // NUL has its own rules in the tokenizer.
            _ => return None,
        }
        copied = i;
    }
    out.push_str(html.get(copied..)?);
    Some(out)
}

/// A start or end tag whose name starts at `start`: its lower-case name
/// and the index past its `>`. Attributes must be plain (`name`,
/// `name=value`, `name="value"`, `name='value'`); `None` otherwise.
fn simple_tag(bytes: &[u8], start: usize) -> Option<(String, usize)> {
    let mut i = start;
    while bytes.get(i)?.is_ascii_alphanumeric() {
        i += 1;
    }
    let name = std::str::from_utf8(bytes.get(start..i)?)
        .ok()?
        .to_ascii_lowercase();
    loop {
        match *bytes.get(i)? {
            b'>' => return Some((name, i + 1)),
            b' ' | b'\t' | b'\n' | b'\x0c' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'>') => i += 1,
            c if c.is_ascii_alphabetic() => {
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':'))
                {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                    match *bytes.get(i)? {
                        q @ (b'"' | b'\'') => {
                            i += 1 + bytes.get(i + 1..)?.iter().position(|&b| b == q)? + 1;
                        }
                        _ => {
                            let value_start = i;
                            while bytes.get(i).is_some_and(|c| {
                                !matches!(c, b' ' | b'\t' | b'\n' | b'\x0c' | b'>')
                            }) {
                                i += 1;
                            }
                            let value = bytes.get(value_start..i)?;
                            if value.is_empty()
                                || value
                                    .iter()
                                    .any(|c| matches!(c, b'"' | b'\'' | b'<' | b'=' | b'`' | b'/'))
                            {
                                return None;
                            }
                        }
                    }
                }
                if !matches!(
                    bytes.get(i),
                    Some(b' ' | b'\t' | b'\n' | b'\x0c' | b'>' | b'/')
                ) {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// The character of a common entity (`amp`, `#233`, `#xE9`…, without `&`
/// and `;`), `None` for others or code points the parser would replace.
fn simple_entity(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        "nbsp" => return Some('\u{a0}'),
        _ => {
            let num = name.strip_prefix('#')?;
            match num.strip_prefix(['x', 'X']) {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()?
                }
                None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
                    num.parse().ok()?
                }
                _ => return None,
            }
        }
    };
    // Controls, C1 (windows-1252 remapped), NUL and surrogates get special
    // treatment from the parser.
    if code < 0x20 || (0x7f..=0x9f).contains(&code) {
        return None;
    }
    char::from_u32(code)
}

/// Already-plain text made tidy: runs of whitespace and control characters
/// collapsed to one space, trimmed, and put in Unicode NFC so that the same
/// accented word compares equal whichever form the source used.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if is_nfc_quick(out.chars()) == IsNormalized::Yes {
        out
    } else {
        out.nfc().collect()
    }
}

/// The largest char boundary of `s` not after byte `index`.
fn floor_char_boundary(s: &str, index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    (0..=index)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// `s` cut to at most `max` characters (never inside a character), with an
/// ellipsis as the last character when something was cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some(_) => {
            let cut = s.char_indices().nth(max - 1).map_or(s.len(), |(i, _)| i);
            let mut out = s.get(..cut).unwrap_or_default().trim_end().to_owned();
            out.push('…');
            out
        }
    }
}

/// How far into a body `decode` looks for an XML declaration or an HTML
/// `<meta charset>` (the HTML spec's pre-scan uses the same 1 KiB).
const SNIFF_LEN: usize = 1024;

/// A character encoding `decode` can apply: the WHATWG ones encoding_rs
/// implements, plus UTF-32, which the WHATWG standard (hence encoding_rs)
/// leaves out but which is cheap to decode by hand.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Charset {
    Whatwg(&'static Encoding),
    Utf32Le,
    Utf32Be,
}

impl Charset {
    /// Encodings in which ASCII is not one byte per character: a label
    /// naming one of these is only believable if the bytes agree.
    fn is_wide(self) -> bool {
        match self {
            Charset::Whatwg(enc) => enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE,
            Charset::Utf32Le | Charset::Utf32Be => true,
        }
    }
}

const UTF8: Charset = Charset::Whatwg(encoding_rs::UTF_8);

/// Decodes a fetched body (feed or HTML page) into UTF-8.
///
/// The charset is taken from, in order: a byte-order mark (UTF-8, UTF-16
/// LE/BE, UTF-32 LE/BE; the BOM is dropped), the `charset` parameter of
/// `content_type`, the byte pattern of BOM-less UTF-16/UTF-32 text, the XML
/// declaration's `encoding` (or else an HTML `<meta charset>`) in the first
/// KiB, and finally UTF-8. Invalid sequences become U+FFFD.
///
/// Three departures from that order, for servers and documents that lie
/// or say nothing: a UTF-16 or UTF-32 label is ignored when the bytes are
/// plainly one byte per ASCII character; when the HTTP charset says UTF-8
/// but the body is not valid UTF-8, the document's own declaration is used
/// instead; and a body that names no charset and is mostly invalid UTF-8
/// is read as windows-1252 (a superset of ISO-8859-1), as browsers do,
/// rather than riddled with U+FFFD.
///
/// The XML declaration's `encoding` is rewritten to `utf-8` in the result,
/// so that an XML parser reading the text does not decode it a second time.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    let (charset, rest) = detect_charset(body, content_type);
    let text = match charset {
        Charset::Whatwg(enc) if enc == encoding_rs::UTF_8 => String::from_utf8_lossy(rest),
        Charset::Whatwg(enc) => enc.decode_without_bom_handling(rest).0,
        Charset::Utf32Le => Cow::Owned(decode_utf32(rest, u32::from_le_bytes)),
        Charset::Utf32Be => Cow::Owned(decode_utf32(rest, u32::from_be_bytes)),
    };
    declare_utf8(text)
}

/// The charset to use and the bytes to decode (without any BOM).
fn detect_charset<'a>(body: &'a [u8], content_type: Option<&str>) -> (Charset, &'a [u8]) {
    if let Some((charset, bom_len)) = charset_from_bom(body) {
        return (charset, body.get(bom_len..).unwrap_or_default());
    }
    let declared = || {
        declared_encoding(body)
            .or_else(|| meta_charset(body))
            .and_then(|label| charset_from_label(&label, body))
    };
    let http = content_type
        .and_then(charset_param)
        .and_then(|label| charset_from_label(label, body));
    let fallback = || {
        if looks_single_byte(body) {
            Charset::Whatwg(encoding_rs::WINDOWS_1252)
        } else {
            UTF8
        }
    };
    let charset = match http {
        Some(charset) if charset == UTF8 && std::str::from_utf8(body).is_err() => {
            declared().unwrap_or_else(fallback)
        }
        Some(charset) => charset,
        None => sniff_wide(body).or_else(declared).unwrap_or_else(fallback),
    };
    (charset, body)
}

/// Whether `body` is not UTF-8 but a single-byte encoding: it has more
/// invalid UTF-8 sequences than valid multi-byte ones. Latin-1 text makes
/// the odd valid sequence by chance (`é` + NBSP + `»`); a UTF-8 body with a
/// few bad bytes stays UTF-8.
fn looks_single_byte(body: &[u8]) -> bool {
    let (mut invalid, mut multibyte) = (0_usize, 0_usize);
    for chunk in body.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    invalid > multibyte
}

fn charset_from_bom(body: &[u8]) -> Option<(Charset, usize)> {
    // UTF-32 LE first: its BOM starts with the UTF-16 LE one.
    if body.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return Some((Charset::Utf32Le, 4));
    }
    if body.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        return Some((Charset::Utf32Be, 4));
    }
    Encoding::for_bom(body).map(|(enc, len)| (Charset::Whatwg(enc), len))
}

/// UTF-16/UTF-32 without a BOM, recognised from how the NUL bytes fall
/// around the first (ASCII) characters, as in XML 1.0 appendix F and
/// RFC 4627 for JSON.
fn sniff_wide(body: &[u8]) -> Option<Charset> {
    let [a, b, c, d] = *body.first_chunk::<4>()?;
    match (a == 0, b == 0, c == 0, d == 0) {
        (true, true, true, false) => Some(Charset::Utf32Be),
        (false, true, true, true) => Some(Charset::Utf32Le),
        (true, false, true, false) => Some(Charset::Whatwg(encoding_rs::UTF_16BE)),
        (false, true, false, true) => Some(Charset::Whatwg(encoding_rs::UTF_16LE)),
        _ => None,
    }
}

/// The charset a label names, checked against the bytes it should decode.
fn charset_from_label(label: &str, body: &[u8]) -> Option<Charset> {
    let label = label.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    let charset = match label.as_str() {
        "utf-32le" | "utf_32le" => Charset::Utf32Le,
        "utf-32" | "utf_32" | "utf32" | "utf-32be" | "utf_32be" | "ucs-4" | "iso-10646-ucs-4" => {
            Charset::Utf32Be
        }
        "utf16" | "utf_16" => Charset::Whatwg(encoding_rs::UTF_16LE),
        _ => match Encoding::for_label(label.as_bytes()) {
            // The WHATWG "replacement" encoding turns the whole body into a
            // single U+FFFD; ASCII-compatible UTF-8 is a better guess.
            Some(enc) if enc == encoding_rs::REPLACEMENT => return None,
            Some(enc) => Charset::Whatwg(enc),
            None => return None,
        },
    };
    if charset.is_wide() {
        // The label gives the family; the NUL pattern gives the byte order,
        // and its absence means the label is wrong.
        return match sniff_wide(body) {
            Some(sniffed) => Some(sniffed),
            None if body.iter().take(4).any(|&b| b == 0) => Some(charset),
            None => None,
        };
    }
    Some(charset)
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        let value = value.trim().trim_matches(['"', '\'']).trim();
        (key.trim().eq_ignore_ascii_case("charset") && !value.is_empty()).then_some(value)
    })
}

/// The `encoding` named by an XML declaration at the start of `body`.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let window = body.get(..SNIFF_LEN).unwrap_or(body);
    let range = xml_declaration_encoding(window)?;
    window
        .get(range)
        .map(|label| String::from_utf8_lossy(label).into_owned())
}

/// Byte range of the `encoding` value in an XML declaration opening `text`
/// (leading whitespace tolerated, as lenient parsers do).
fn xml_declaration_encoding(text: &[u8]) -> Option<Range<usize>> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let decl = text.get(start..)?;
    if !decl.starts_with(b"<?xml") || !decl.get(5).is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let end = find(decl, b"?>")?;
    let attrs = decl.get(5..end)?;
    let value = attr_value(attrs, b"encoding")?;
    Some(start + 5 + value.start..start + 5 + value.end)
}

/// Byte range of the quoted value of attribute `name` in `attrs`, the text
/// of a tag after its name (`a="1" b='2'`). Walks attribute by attribute so
/// that a name appearing inside another value is not mistaken for one.
pub(crate) fn attr_value(attrs: &[u8], name: &[u8]) -> Option<Range<usize>> {
    let mut i = 0;
    loop {
        while attrs.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let name_start = i;
        while attrs
            .get(i)
            .is_some_and(|&b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/' | b'?'))
        {
            i += 1;
        }
        if i == name_start {
            return None;
        }
        let found = attrs.get(name_start..i)?.eq_ignore_ascii_case(name);
        while attrs.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if attrs.get(i) != Some(&b'=') {
            // A value-less attribute (HTML) or the end of the tag.
            if found {
                return None;
            }
            continue;
        }
        i += 1;
        while attrs.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let value = match attrs.get(i) {
            Some(&quote @ (b'"' | b'\'')) => {
                let len = attrs.get(i + 1..)?.iter().position(|&b| b == quote)?;
                i + 1..i + 1 + len
            }
            Some(_) => {
                let len = attrs
                    .get(i..)?
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || b == b'>')
                    .unwrap_or(attrs.len() - i);
                i..i + len
            }
            None => return None,
        };
        if found {
            return Some(value);
        }
        i = value.end + 1;
    }
}

/// The charset named by an HTML `<meta charset=…>` or
/// `<meta http-equiv="Content-Type" content="…; charset=…">` in the first KiB.
fn meta_charset(body: &[u8]) -> Option<String> {
    let window = body.get(..SNIFF_LEN).unwrap_or(body).to_ascii_lowercase();
    let mut rest = window.as_slice();
    while let Some(at) = find(rest, b"<meta") {
        let tag = rest.get(at + 5..)?;
        let tag = tag.get(..find(tag, b">").unwrap_or(tag.len()))?;
        if let Some(at) = find(tag, b"charset=") {
            let value = tag.get(at + 8..)?;
            let value = value
                .strip_prefix(b"\"")
                .or_else(|| value.strip_prefix(b"'"))
                .unwrap_or(value);
            let len = value
                .iter()
                .position(|&b| matches!(b, b'"' | b'\'' | b';' | b'/') || b.is_ascii_whitespace())
                .unwrap_or(value.len());
            let label = value.get(..len)?;
            if !label.is_empty() {
                return Some(String::from_utf8_lossy(label).into_owned());
            }
        }
        rest = rest.get(at + 5..)?;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn decode_utf32(bytes: &[u8], word: fn([u8; 4]) -> u32) -> String {
    let chunks = bytes.chunks_exact(4);
    let trailing = !chunks.remainder().is_empty();
    let mut out: String = chunks
        .map(|chunk| {
            let mut quad = [0; 4];
            quad.copy_from_slice(chunk);
            char::from_u32(word(quad)).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect();
    if trailing {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// `text` with its XML declaration's `encoding` (if any) set to `utf-8`.
fn declare_utf8(text: Cow<'_, str>) -> Cow<'_, str> {
    let window = text.as_bytes().get(..SNIFF_LEN).unwrap_or(text.as_bytes());
    let Some(range) = xml_declaration_encoding(window) else {
        return text;
    };
    // The range is bounded by ASCII quotes, so it lies on char boundaries;
    // `get` keeps that an assumption rather than a panic.
    match (
        text.get(range.clone()),
        text.get(..range.start),
        text.get(range.end..),
    ) {
        (Some(label), _, _) if label.eq_ignore_ascii_case("utf-8") => text,
        (Some(_), Some(before), Some(after)) => Cow::Owned(format!("{before}utf-8{after}")),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of HTML for the fast path's equivalence property.
    const HTML_PIECES: &[&str] = &[
        "a",
        " ",
        "x y",
        "é",
        "\n",
        "\r\n",
        "R & D",
        "<3",
        "a<",
        "&",
        "&;",
        "&amp;",
        "&lt;",
        "&gt;",
        "&quot;",
        "&#233;",
        "&#xE9;",
        "&nbsp;",
        "&#0;",
        "&#128;",
        "&bogus;",
        "&amp",
        "<b>",
        "</b>",
        "<i>",
        "</em>",
        "<em>",
        "<span style='c:d'>",
        "</span>",
        "<a href=\"/x?a=1&b=2\">",
        "</a>",
        "<a href=x>",
        "<p>",
        "</p>",
        "<p class=\"c\">",
        "<br>",
        "<br/>",
        "</br>",
        "<hr>",
        "</hr>",
        "<img src=x.png alt=\"\">",
        "<div>",
        "</div>",
        "<ul>",
        "</ul>",
        "<li>",
        "</li>",
        "<dd>",
        "<dt>",
        "</dd>",
        "<h1>",
        "</h1>",
        "<h2>",
        "</h2>",
        "<pre>",
        "</pre>",
        "<td>",
        "</td>",
        "<table>",
        "<form>",
        "</form>",
        "<!-- c -->",
        "<script>x</script>",
        "<B>",
        "</P>",
        "<b/>",
        "<p/>",
        "<x>",
        "</>",
        "< p>",
        "<p =x>",
        "<p a=\"1\"b>",
        "<blockquote>",
        "</blockquote>",
        "<tr>",
        "<select>",
    ];

    proptest::proptest! {
        #[test]
        fn simple_html_reads_as_html5ever(pieces in proptest::collection::vec(0..HTML_PIECES.len(), 0..14)) {
            let html: String = pieces.iter().map(|&i| HTML_PIECES[i]).collect();
            if let Some(fast) = simple_html_text(&html) {
                proptest::prop_assert_eq!(plain(&fast), plain(&parsed_html_text(&html)), "{:?}", html);
            }
        }
    }

    #[test]
    fn simple_html_takes_the_common_cases() {
        for html in [
            "Rejoignez une équipe <b>passionnée</b> : vous concevrez",
            "<p>Salary &lt; 30k &amp; R&D</p><ul><li>Rust</li><li>Go</li></ul>",
            "<a href=\"https://x.example/?a=1&amp;b=2\">apply</a><br/>now",
        ] {
            assert!(simple_html_text(html).is_some(), "{html}");
        }
        assert_eq!(
            html_to_text("<p>Salary &lt; 30k &amp; R&D</p><ul><li>Rust</li><li>Go</li></ul>"),
            "Salary < 30k & R&D Rust Go"
        );
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn canonical_url_removes_tracking_and_sorts() {
        assert_eq!(
            canonical_url(&url(
                "https://Example.COM/Jobs/42?utm_source=x&b=2&ref=hn&a=1&gclid=z&fbclid=y&mc_cid=1&mc_eid=2&UTM_Medium=m"
            )),
            "https://example.com/Jobs/42?a=1&b=2"
        );
    }

    #[test]
    fn canonical_url_sorts_by_key_then_value_keeping_encoding() {
        // Raw (still percent-encoded) values are compared: '%' sorts before '1'.
        assert_eq!(
            canonical_url(&url("http://x.org/p?b=2&a=z&a=%C3%A9&a=1&c")),
            "http://x.org/p?a=%C3%A9&a=1&a=z&b=2&c"
        );
        assert_eq!(
            canonical_url(&url("http://x.org/?q=rust%20dev&page=2")),
            "http://x.org/?page=2&q=rust%20dev"
        );
    }

    #[test]
    fn canonical_url_drops_empty_query_and_fragment() {
        assert_eq!(canonical_url(&url("https://x.org/a?")), "https://x.org/a");
        assert_eq!(
            canonical_url(&url("https://x.org/a?utm_source=rss#top")),
            "https://x.org/a"
        );
        assert_eq!(canonical_url(&url("https://x.org/a#")), "https://x.org/a");
        assert_eq!(canonical_url(&url("https://x.org/a?&&")), "https://x.org/a");
        assert_eq!(
            canonical_url(&url("HTTPS://WWW.X.ORG")),
            "https://www.x.org/"
        );
    }

    #[test]
    fn canonical_url_keeps_path_and_non_tracking_lookalikes() {
        assert_eq!(
            canonical_url(&url("https://x.org/A/b/?referrer=1&utm=2&reference=3")),
            "https://x.org/A/b/?reference=3&referrer=1&utm=2"
        );
    }

    #[test]
    fn parse_link_resolves_and_filters() {
        let base = url("https://jobs.example.org/feeds/all.rss");
        assert_eq!(
            parse_link("  /offer/1 \n", &base).map(String::from),
            Some("https://jobs.example.org/offer/1".to_owned())
        );
        assert_eq!(
            parse_link("offer/2", &base).map(String::from),
            Some("https://jobs.example.org/feeds/offer/2".to_owned())
        );
        assert_eq!(
            parse_link("//cdn.example.org/x", &base).map(String::from),
            Some("https://cdn.example.org/x".to_owned())
        );
        assert_eq!(parse_link("mailto:hr@example.org", &base), None);
        assert_eq!(parse_link("javascript:void(0)", &base), None);
        assert_eq!(parse_link("   ", &base), None);
        assert_eq!(parse_link("http://[bad", &base), None);
        assert_eq!(parse_link("ftp://x.org/f", &base), None);
    }

    #[test]
    fn html_to_text_strips_tags_and_decodes() {
        assert_eq!(
            html_to_text("<p>Senior <b>Rust</b>&nbsp;dev</p><p>R&amp;D &eacute;quipe&#8217;s</p>"),
            "Senior Rust dev R&D équipe’s"
        );
        assert_eq!(
            html_to_text("a<script>alert('x')</script>b<style>p{}</style> c"),
            "ab c"
        );
        assert_eq!(
            html_to_text("<ul><li>one</li><li>two</li></ul>three"),
            "one two three"
        );
        assert_eq!(html_to_text("line<br>break<br/>again"), "line break again");
        assert_eq!(
            html_to_text("<table><tr><td>a</td><td>b</td></tr></table>"),
            "a b"
        );
        assert_eq!(html_to_text("  \n\t spaced \r\n  out  "), "spaced out");
        assert_eq!(html_to_text(""), "");
        assert_eq!(html_to_text("<div><div></div></div>"), "");
    }

    #[test]
    fn html_to_text_survives_plain_text() {
        assert_eq!(html_to_text("salary < 30k & bonus"), "salary < 30k & bonus");
        assert_eq!(html_to_text("salary <30k"), "salary <30k");
        assert_eq!(html_to_text("AT&T R&amp;D"), "AT&T R&D");
        assert_eq!(html_to_text("x > y"), "x > y");
    }

    #[test]
    fn html_to_text_bounds_hostile_input() {
        // Deep enough to overflow a recursive walk, and to take minutes in
        // html5ever if it were read whole.
        let html = "<div>".repeat(100_000) + "deep";
        assert_eq!(html_to_text(&html), "");
        let html = "é".repeat(HTML_TO_TEXT_MAX_BYTES) + "<b>";
        assert_eq!(html_to_text(&html).len(), HTML_TO_TEXT_MAX_BYTES);
    }

    #[test]
    fn plain_collapses_and_normalises() {
        assert_eq!(plain("  a \u{a0} b\u{0008}c\n"), "a b c");
        // Decomposed "é" (e + combining acute) becomes the precomposed one.
        assert_eq!(plain("caf\u{65}\u{301}"), "caf\u{e9}");
    }

    #[test]
    fn truncate_chars_cuts_on_char_boundary() {
        assert_eq!(truncate_chars("ééééé", 10), "ééééé");
        assert_eq!(truncate_chars("ééééé", 3), "éé…");
        assert_eq!(truncate_chars("ab", 0), "");
    }

    #[test]
    fn decode_boms() {
        assert_eq!(decode(b"\xEF\xBB\xBFcaf\xC3\xA9", None), "café");
        assert_eq!(decode(b"\xFF\xFEa\0\xE9\0", None), "aé");
        assert_eq!(decode(b"\xFE\xFF\0a\0\xE9", None), "aé");
        assert_eq!(decode(b"\xFF\xFE\0\0a\0\0\0\xE9\0\0\0", None), "aé");
        assert_eq!(decode(b"\0\0\xFE\xFF\0\0\0a\0\0\0\xE9", None), "aé");
        // The BOM wins over the HTTP charset.
        assert_eq!(
            decode(
                b"\xEF\xBB\xBFcaf\xC3\xA9",
                Some("text/xml; charset=iso-8859-1")
            ),
            "café"
        );
    }

    #[test]
    fn decode_declared_latin1_and_rewrites_declaration() {
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>caf\xE9</rss>";
        assert_eq!(
            decode(body, None),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>caf\u{e9}</rss>"
        );
        let body = b"<?xml version='1.0' encoding='windows-1252' ?>\n<a>\x93q\x94</a>";
        assert_eq!(
            decode(body, None),
            "<?xml version='1.0' encoding='utf-8' ?>\n<a>\u{201c}q\u{201d}</a>"
        );
    }

    #[test]
    fn decode_http_charset_wins_over_declaration() {
        let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><a>\xE9</a>";
        assert_eq!(
            decode(body, Some("application/rss+xml; charset=\"ISO-8859-1\"")),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>\u{e9}</a>"
        );
        // A server claiming UTF-8 for a latin-1 document: the declaration wins.
        let body = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>\xE9</a>";
        assert_eq!(
            decode(body, Some("text/xml; charset=utf-8")),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>\u{e9}</a>"
        );
    }

    #[test]
    fn decode_bomless_wide_and_lying_labels() {
        let utf16le: Vec<u8> = "<?xml version=\"1.0\" encoding=\"utf-16\"?><a>é</a>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            decode(&utf16le, None),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>é</a>"
        );
        let utf16be: Vec<u8> = "<a>é</a>"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(
            decode(&utf16be, Some("text/xml; charset=utf-16")),
            "<a>é</a>"
        );
        let utf32be: Vec<u8> = "<a>é</a>"
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        assert_eq!(decode(&utf32be, None), "<a>é</a>");
        // ASCII bytes declared as UTF-16: the declaration is wrong.
        let body = b"<?xml version=\"1.0\" encoding=\"utf-16\"?><a>caf\xC3\xA9</a>";
        assert_eq!(
            decode(body, None),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>café</a>"
        );
        assert_eq!(
            decode(b"<a>caf\xC3\xA9</a>", Some("text/xml; charset=utf-16")),
            "<a>café</a>"
        );
    }

    #[test]
    fn decode_fallbacks() {
        assert!(matches!(
            decode(b"<a>caf\xC3\xA9</a>", None),
            Cow::Borrowed(_)
        ));
        // Undeclared and not UTF-8 at all: windows-1252.
        assert_eq!(
            decode(b"<a>caf\xE9 \x93q\x94</a>", None),
            "<a>caf\u{e9} \u{201c}q\u{201d}</a>"
        );
        assert_eq!(
            decode(b"<a>caf\xE9</a>", Some("text/xml; charset=utf-8")),
            "<a>caf\u{e9}</a>"
        );
        // Latin-1 that happens to contain a valid UTF-8 sequence (E9 A0 BB).
        assert_eq!(
            decode(b"\xAB\xA0dou\xE9\xA0\xBB, r\xE9el", None),
            "\u{ab}\u{a0}dou\u{e9}\u{a0}\u{bb}, r\u{e9}el"
        );
        // Mostly UTF-8 with a stray byte: UTF-8, the stray byte replaced.
        assert_eq!(
            decode(b"<a>caf\xC3\xA9 \xE9</a>", None),
            "<a>caf\u{e9} \u{fffd}</a>"
        );
        assert_eq!(decode(b"x", Some("text/xml; charset=bogus")), "x");
        assert_eq!(decode(b"", None), "");
        assert_eq!(
            decode(
                b"<html><head><meta charset=\"windows-1251\"></head>\xCF\xF0\xE8",
                Some("text/html")
            ),
            "<html><head><meta charset=\"windows-1251\"></head>При"
        );
        assert_eq!(
            decode(
                b"<html><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">\xE9",
                None
            ),
            "<html><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">é"
        );
        // An `encoding` inside another attribute's value is not the encoding.
        assert_eq!(
            decode(
                b"<?xml version=\"encoding='latin1'\"?><a>caf\xC3\xA9</a>",
                None
            ),
            "<?xml version=\"encoding='latin1'\"?><a>café</a>"
        );
        // A stylesheet PI is not a declaration.
        assert_eq!(
            decode(b"<?xml-stylesheet encoding=\"latin1\"?>\xC3\xA9", None),
            "<?xml-stylesheet encoding=\"latin1\"?>é"
        );
    }

    #[test]
    fn attr_value_walks_attributes() {
        let attrs = b" xmlns:v=\"version\" version='2.0' x";
        let range = attr_value(attrs, b"version").expect("found");
        assert_eq!(&attrs[range], b"2.0");
        assert_eq!(attr_value(b" a b=1", b"b").map(|r| r.len()), Some(1));
        assert_eq!(attr_value(b" a=\"unterminated", b"a"), None);
        assert_eq!(attr_value(b"", b"a"), None);
    }
}
