//! Matching offers against profiles: folding text for search, the profile
//! query language, and evaluating a profile against an offer.
//!
//! Everything here is pure (no I/O, no global state).
//!
//! # Text model
//!
//! Text is first [`fold`]ed (lower-case, canonical decomposition with the
//! combining marks removed, `œ`→`oe`, `æ`→`ae`, `ß`→`ss`), then cut into
//! *atoms*:
//!
//! * an atom is a maximal run of alphanumeric characters;
//! * a run of `+`/`#` right after an atom belongs to it (`c++`, `c#`, `f#`,
//!   `5+`), except a single `+`/`#` directly followed by a letter or digit,
//!   which joins two atoms (`bac+5` is `bac` and `5`);
//! * every other character separates atoms. So a word joined by `·`, `.`,
//!   `/`, `-`, `'` or `(…)` (`développeur·se`, `node.js`, `full-stack`,
//!   `développeur(se)`) is a sequence of atoms, and trailing punctuation
//!   (`Rust,` `Node.js.` `C++)`) never sticks to a word;
//! * an atom directly preceded by `.` is *dotted*: it is also searchable with
//!   its dot (`ASP.NET` and `.NET` both contain `.net`; `node.js` contains
//!   `.js`).
//!
//! A search word is cut the same way. A word of one atom must equal an atom
//! of the text (`rust` ≠ `trust`, `c` ≠ `c++`, `c` ≠ `c#`); a word of several
//! atoms (a quoted phrase, or a joined word such as `full-stack`,
//! `développeur·se`, `node.js`, `asp.net`) must match consecutive atoms of one
//! field, whatever joined them in the text (`full-stack` matches "full stack",
//! "Full-Stack"; `développeur·se` matches "développeur.se" and
//! "développeur(se)"). A trailing `*` makes an atom a prefix (`dev*`). A
//! *leading* dot in a search word is kept and required (`.net` matches ".NET"
//! and "ASP.NET" but not "net income"), while an inner dot only joins
//! (`node.js`). The plain part of a dotted word is a word of its own (`net`
//! matches ".NET", `node` matches "Node.js"). No stemming, no synonyms.
//! Punctuation between atoms is ignored by phrases (`"rust developer"`
//! matches "Rust, developer"), but a phrase never spans two fields or two
//! tags. `+` and `#` after a word are kept (`5+` ≠ `5`); a leading `+` or `#`
//! is punctuation (`#rust` is `rust`).
//!
//! # Query language
//!
//! ```text
//! query   := or
//! or      := and ( "OR" and )*
//! and     := unary ( ["AND"] unary )*
//! unary   := ("NOT" | "-") unary | primary
//! primary := word | "\"" phrase "\"" | "(" or ")" | field primary
//! field   := "title:" | "company:" | "location:" | "contract:"
//! ```
//!
//! Only the upper-case `OR`, `AND`, `NOT` are operators. A `-` negates only
//! when directly followed by a term (`-rust`, `-"big corp"`, `-(a b)`). A
//! field name is any ASCII-letters word ending in `:` (case-insensitive);
//! unknown names are errors (quote the text to search for it literally).
//! When fields nest (`title:(company:x)`) the innermost wins. A `(` glued to
//! a word, closed before any space, is part of the word (`développeur(se)`);
//! so `rust(go)` is the joined word, not a group. Without a field a term is
//! searched in title, company, location, tags and summary (not contract).
//!
//! # Evaluation
//!
//! [`Indexed`] folds and tokenises an offer once: a sorted, deduplicated
//! table of its tokens (with the fields each occurs in) behind an
//! open-addressing hash table for exact lookups, plus the atom sequence of
//! each field for phrases. Search terms are folded, cut and hashed at parse
//! time, so [`Matcher::evaluate`] only does hash probes, prefix range scans
//! and (for multi-atom terms present in a field) a scan of that field, and
//! allocates nothing unless it returns a [`Match`].

use std::fmt;
use std::ops::Range;

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

// ---------------------------------------------------------------------------
// Folding
// ---------------------------------------------------------------------------

/// Lower-cases `s` and removes accents (NFD, combining marks dropped), and
/// spells out the ligatures `œ`, `æ` and `ß`. Idempotent.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(&mut out, s);
    out
}

/// Appends the folded form of `s` to `out`.
///
/// Works char by char (no context), so it is idempotent as soon as it is
/// idempotent on every single char, which a test checks exhaustively.
fn fold_into(out: &mut String, s: &str) {
    // ASCII runs, the bulk of most text, are lower-cased in one go.
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(ascii);
        let start = out.len();
        out.push_str(run);
        if let Some(pushed) = out.get_mut(start..) {
            pushed.make_ascii_lowercase();
        }
        let mut chars = tail.chars();
        let Some(c) = chars.next() else {
            break;
        };
        rest = chars.as_str();
        fold_char(out, c);
    }
}

/// Appends the folded form of one non-ASCII char.
fn fold_char(out: &mut String, c: char) {
    decompose_canonical(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        for l in d.to_lowercase() {
            if l.is_ascii() {
                out.push(l);
                continue;
            }
            // Lower-casing may yield a char with a decomposition of its
            // own (e.g. U+0130 gives `i` + U+0307): decompose again.
            decompose_canonical(l, |e| {
                if is_combining_mark(e) {
                    return;
                }
                match e {
                    'œ' => out.push_str("oe"),
                    'æ' => out.push_str("ae"),
                    'ß' => out.push_str("ss"),
                    _ => out.push(e),
                }
            });
        }
    });
}

// ---------------------------------------------------------------------------
// Atoms
// ---------------------------------------------------------------------------

/// One atom of folded text: byte range `start..end`.
#[derive(Debug, Clone, Copy)]
struct Atom {
    start: usize,
    end: usize,
    /// Directly preceded by `.`.
    dotted: bool,
    /// Dotted, and the dot does not directly follow the previous atom (a
    /// leading dot, as in `.net`, rather than a joining one, as in `asp.net`).
    leading_dot: bool,
}

/// Calls `f` for each atom of `s` (already folded), in order.
fn for_each_atom(s: &str, mut f: impl FnMut(Atom)) {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut prev_end: Option<usize> = None;
    while let Some(rest) = s.get(i..) {
        let mut chars = rest.char_indices();
        let Some((_, c)) = chars.next() else { break };
        if !c.is_alphanumeric() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let mut end = i + c.len_utf8();
        for (k, ch) in chars {
            if !ch.is_alphanumeric() {
                break;
            }
            end = i + k + ch.len_utf8();
        }
        let run = bytes
            .get(end..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b == b'+' || b == b'#')
            .count();
        if run > 0 {
            let next_is_alnum = s
                .get(end + run..)
                .and_then(|r| r.chars().next())
                .is_some_and(char::is_alphanumeric);
            if !(run == 1 && next_is_alnum) {
                end += run;
            }
        }
        let dotted = start > 0 && bytes.get(start - 1) == Some(&b'.');
        let leading_dot = dotted && prev_end != Some(start - 1);
        f(Atom {
            start,
            end,
            dotted,
            leading_dot,
        });
        prev_end = Some(end);
        i = end;
    }
}

// ---------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------

const TITLE: u8 = 1 << 0;
const COMPANY: u8 = 1 << 1;
const LOCATION: u8 = 1 << 2;
const CONTRACT: u8 = 1 << 3;
const TAGS: u8 = 1 << 4;
const SUMMARY: u8 = 1 << 5;
const NFIELDS: usize = 6;
/// Where a term without a field is searched (and where `exclude` looks).
const DEFAULT_FIELDS: u8 = TITLE | COMPANY | LOCATION | TAGS | SUMMARY;
/// Score weight of a match in each field, by bit index.
const WEIGHTS: [f32; NFIELDS] = [3.0, 2.0, 2.0, 2.0, 1.5, 1.0];

fn field_by_name(name: &str) -> Option<u8> {
    [
        ("title", TITLE),
        ("company", COMPANY),
        ("location", LOCATION),
        ("contract", CONTRACT),
    ]
    .into_iter()
    .find(|(n, _)| n.eq_ignore_ascii_case(name))
    .map(|(_, m)| m)
}

/// The weight of the best field in `mask` (0 for an empty mask).
fn best_weight(mask: u8) -> f32 {
    (0..NFIELDS)
        .filter(|f| mask & (1 << f) != 0)
        .map(|f| WEIGHTS[f])
        .fold(0.0, f32::max)
}

// ---------------------------------------------------------------------------
// Terms
// ---------------------------------------------------------------------------

/// Deterministic string hash (FNV-1a with a final mix), shared by parse
/// time and index time.
fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The first 8 bytes of a token, big-endian, zero-padded: two tokens
/// whose heads differ compare as their heads do (tokens hold no NUL), so
/// most comparisons of a prefix search need no `memcmp`.
fn head(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    if let (Some(to), Some(from)) = (a.get_mut(..n), b.get(..n)) {
        to.copy_from_slice(from);
    }
    u64::from_be_bytes(a)
}

/// One atom of a search term.
#[derive(Debug, Clone)]
struct Elem {
    /// Folded atom, with its leading `.` when `dotted`.
    key: Box<str>,
    key_hash: u64,
    /// Hash of the atom without the dot.
    plain_hash: u64,
    /// [`head`] of `key`.
    head: u64,
    /// The term wrote a leading dot: the text atom must be dotted.
    dotted: bool,
    /// Followed by `*`: a prefix.
    prefix: bool,
}

impl Elem {
    fn plain(&self) -> &str {
        if self.dotted {
            self.key.get(1..).unwrap_or_default()
        } else {
            &self.key
        }
    }
}

/// Folds and cuts a search word or phrase into its atoms.
fn compile_elems(raw: &str) -> Vec<Elem> {
    let folded = fold(raw);
    let mut out = Vec::new();
    for_each_atom(&folded, |a| {
        let prefix = folded.get(a.end..).is_some_and(|r| r.starts_with('*'));
        let key_start = if a.leading_dot { a.start - 1 } else { a.start };
        let key = folded.get(key_start..a.end).unwrap_or_default();
        let plain = folded.get(a.start..a.end).unwrap_or_default();
        out.push(Elem {
            key: key.into(),
            key_hash: hash_str(key),
            plain_hash: hash_str(plain),
            head: head(key.as_bytes()),
            dotted: a.leading_dot,
            prefix,
        });
    });
    out
}

/// A compiled word, phrase or prefix.
#[derive(Debug, Clone)]
struct Term {
    /// As the user wrote it (without field, operator or quotes).
    source: String,
    elems: Vec<Elem>,
    /// Fields the term is searched in.
    fields: u8,
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A query or pattern that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// A short human sentence.
    pub message: String,
    /// Byte offset into the input where the problem is.
    pub offset: usize,
}

impl ParseError {
    fn new(message: impl Into<String>, offset: usize) -> ParseError {
        ParseError {
            message: message.into(),
            offset,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

// ---------------------------------------------------------------------------
// Query: lexer
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Tok<'a> {
    LParen(usize),
    RParen(usize),
    /// A bare word and its offset.
    Word(&'a str, usize),
    /// The inside of a quoted phrase, and the offset of its opening quote.
    Phrase(&'a str, usize),
    Or(usize),
    And(usize),
    /// `NOT` (false) or `-` (true).
    Not(usize, bool),
    /// A field prefix: its mask, its name as written, its offset.
    Field(u8, &'a str, usize),
}

fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|r| r.chars().next())
}

fn is_operator(w: &str) -> bool {
    matches!(w, "OR" | "AND" | "NOT")
}

/// For a `(` at `open` glued to a word: the offset of the `)` closing it if
/// it comes before any space, quote or other parenthesis and encloses
/// something.
fn glued_group_close(src: &str, open: usize) -> Option<usize> {
    let rest = src.get(open + 1..)?;
    for (k, ch) in rest.char_indices() {
        if ch == ')' {
            return (k > 0).then_some(open + 1 + k);
        }
        if ch.is_whitespace() || ch == '(' || ch == '"' {
            return None;
        }
    }
    None
}

fn lex(src: &str) -> Result<Vec<Tok<'_>>, ParseError> {
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(c) = char_at(src, i) {
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        match c {
            '(' => {
                toks.push(Tok::LParen(i));
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen(i));
                i += 1;
            }
            '"' => {
                let rest = src.get(i + 1..).unwrap_or_default();
                let Some(len) = rest.find('"') else {
                    return Err(ParseError::new("unclosed quote", i));
                };
                toks.push(Tok::Phrase(rest.get(..len).unwrap_or_default(), i));
                i += 1 + len + 1;
            }
            '-' => match char_at(src, i + 1) {
                Some(n) if !n.is_whitespace() && n != ')' => {
                    toks.push(Tok::Not(i, true));
                    i += 1;
                }
                _ => return Err(ParseError::new("expected a term right after `-`", i)),
            },
            _ => i = lex_word(src, i, &mut toks)?,
        }
    }
    Ok(toks)
}

/// Lexes the bare word (or field prefix) starting at `start`; returns where
/// lexing goes on.
fn lex_word<'a>(src: &'a str, start: usize, toks: &mut Vec<Tok<'a>>) -> Result<usize, ParseError> {
    let mut j = start;
    while let Some(ch) = char_at(src, j) {
        if ch.is_whitespace() || ch == ')' || ch == '"' {
            break;
        }
        if ch == '(' {
            let word = src.get(start..j).unwrap_or_default();
            if !word.is_empty()
                && !is_operator(word)
                && let Some(close) = glued_group_close(src, j)
            {
                j = close + 1;
                continue;
            }
            break;
        }
        if ch == ':' {
            let name = src.get(start..j).unwrap_or_default();
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()) {
                let Some(mask) = field_by_name(name) else {
                    return Err(ParseError::new(
                        format!(
                            "unknown field `{name}:` (use title:, company:, location:, contract:)"
                        ),
                        start,
                    ));
                };
                let after = j + 1;
                if char_at(src, after).is_none_or(char::is_whitespace) {
                    return Err(ParseError::new(
                        format!("expected a term right after `{name}:`"),
                        start,
                    ));
                }
                toks.push(Tok::Field(mask, name, start));
                return Ok(after);
            }
        }
        j += ch.len_utf8();
    }
    let word = src.get(start..j).unwrap_or_default();
    toks.push(match word {
        "OR" => Tok::Or(start),
        "AND" => Tok::And(start),
        "NOT" => Tok::Not(start, false),
        _ => Tok::Word(word, start),
    });
    Ok(j)
}

// ---------------------------------------------------------------------------
// Query: parser
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Node {
    /// Index into the term list.
    Term(usize),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// How deep parentheses, fields and negations may nest (keeps recursion,
/// here and in evaluation, far from the stack's limit).
const MAX_DEPTH: usize = 100;

struct Parser<'a> {
    toks: Vec<Tok<'a>>,
    pos: usize,
    terms: Vec<Term>,
    /// The field of the innermost enclosing field prefix.
    field: Option<u8>,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).copied()
    }

    fn starts_operand(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Word(..) | Tok::Phrase(..) | Tok::LParen(_) | Tok::Not(..) | Tok::Field(..))
        )
    }

    fn enter(&mut self, offset: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new("query nests too deeply", offset));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Node, ParseError> {
        let mut alts = vec![self.parse_and()?];
        while let Some(Tok::Or(off)) = self.peek() {
            self.pos += 1;
            if !self.starts_operand() {
                return Err(ParseError::new("expected a term after OR", off));
            }
            alts.push(self.parse_and()?);
        }
        Ok(if alts.len() == 1 {
            alts.swap_remove(0)
        } else {
            Node::Or(alts)
        })
    }

    fn parse_and(&mut self) -> Result<Node, ParseError> {
        if !self.starts_operand() {
            return Err(match self.peek() {
                Some(Tok::Or(off)) => ParseError::new("expected a term before OR", off),
                Some(Tok::And(off)) => ParseError::new("expected a term before AND", off),
                Some(Tok::RParen(off)) => {
                    ParseError::new("unbalanced parenthesis: this `)` has no matching `(`", off)
                }
                _ => ParseError::new("empty query", 0),
            });
        }
        let mut items = vec![self.parse_unary()?];
        loop {
            match self.peek() {
                Some(Tok::And(off)) => {
                    self.pos += 1;
                    if !self.starts_operand() {
                        return Err(ParseError::new("expected a term after AND", off));
                    }
                    items.push(self.parse_unary()?);
                }
                _ if self.starts_operand() => items.push(self.parse_unary()?),
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Node::And(items)
        })
    }

    fn parse_unary(&mut self) -> Result<Node, ParseError> {
        if let Some(Tok::Not(off, minus)) = self.peek() {
            self.pos += 1;
            if !self.starts_operand() {
                let what = if minus { "`-`" } else { "NOT" };
                return Err(ParseError::new(
                    format!("expected a term after {what}"),
                    off,
                ));
            }
            self.enter(off)?;
            let inner = self.parse_unary()?;
            self.depth -= 1;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Node, ParseError> {
        let Some(tok) = self.peek() else {
            return Err(ParseError::new("expected a term", 0));
        };
        self.pos += 1;
        match tok {
            Tok::Word(raw, off) => self.term(raw, off),
            Tok::Phrase(raw, off) => self.term(raw.trim(), off),
            Tok::LParen(off) => {
                if let Some(Tok::RParen(_)) = self.peek() {
                    return Err(ParseError::new("empty parentheses", off));
                }
                self.enter(off)?;
                let inner = self.parse_or()?;
                self.depth -= 1;
                match self.peek() {
                    Some(Tok::RParen(_)) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(ParseError::new(
                        "unbalanced parenthesis: this `(` is never closed",
                        off,
                    )),
                }
            }
            Tok::Field(mask, name, off) => {
                if !self.starts_operand() {
                    return Err(ParseError::new(
                        format!("expected a term right after `{name}:`"),
                        off,
                    ));
                }
                self.enter(off)?;
                let outer = self.field.replace(mask);
                let inner = self.parse_unary();
                self.field = outer;
                self.depth -= 1;
                inner
            }
            Tok::RParen(off) => Err(ParseError::new(
                "unbalanced parenthesis: this `)` has no matching `(`",
                off,
            )),
            Tok::Or(off) => Err(ParseError::new("expected a term before OR", off)),
            Tok::And(off) => Err(ParseError::new("expected a term before AND", off)),
            Tok::Not(off, _) => Err(ParseError::new("expected a term", off)),
        }
    }

    fn term(&mut self, raw: &str, off: usize) -> Result<Node, ParseError> {
        let elems = compile_elems(raw);
        if elems.is_empty() {
            return Err(ParseError::new(
                if raw.is_empty() {
                    "empty phrase".to_owned()
                } else {
                    format!("`{raw}` has no letter or digit to search for")
                },
                off,
            ));
        }
        self.terms.push(Term {
            source: raw.to_owned(),
            elems,
            fields: self.field.unwrap_or(DEFAULT_FIELDS),
        });
        Ok(Node::Term(self.terms.len() - 1))
    }
}

/// A compiled boolean query (see the module doc for the language).
#[derive(Debug, Clone)]
pub struct Query {
    src: String,
    root: Node,
    terms: Vec<Term>,
}

impl Query {
    /// Parses and compiles `src`.
    pub fn parse(src: &str) -> Result<Query, ParseError> {
        let toks = lex(src)?;
        if toks.is_empty() {
            return Err(ParseError::new("empty query", 0));
        }
        let mut p = Parser {
            toks,
            pos: 0,
            terms: Vec::new(),
            field: None,
            depth: 0,
        };
        let root = p.parse_or()?;
        if let Some(tok) = p.peek() {
            // parse_or stops only at a `)` it did not open.
            let off = match tok {
                Tok::RParen(o) | Tok::LParen(o) | Tok::Word(_, o) | Tok::Phrase(_, o) => o,
                Tok::Or(o) | Tok::And(o) | Tok::Not(o, _) | Tok::Field(_, _, o) => o,
            };
            return Err(ParseError::new(
                "unbalanced parenthesis: this `)` has no matching `(`",
                off,
            ));
        }
        Ok(Query {
            src: src.to_owned(),
            root,
            terms: p.terms,
        })
    }

    /// The query as written.
    pub fn source(&self) -> &str {
        &self.src
    }
}

// ---------------------------------------------------------------------------
// Pattern
// ---------------------------------------------------------------------------

/// One `keywords`/`exclude`/`locations`/`block_companies` entry: a word, a
/// phrase (several words, with or without quotes) or a `prefix*`, under the
/// same word rules as queries. No operators: `OR`, `-`, `title:` are plain
/// text here.
#[derive(Debug, Clone)]
pub struct Pattern {
    src: String,
    term: Term,
}

impl Pattern {
    pub fn parse(src: &str) -> Result<Pattern, ParseError> {
        let lead = src.len() - src.trim_start().len();
        let trimmed = src.trim();
        if trimmed.is_empty() {
            return Err(ParseError::new("empty pattern", 0));
        }
        let mut body = trimmed;
        let mut body_off = lead;
        if let Some(rest) = trimmed.strip_prefix('"') {
            let Some(inner) = rest.strip_suffix('"') else {
                return Err(ParseError::new("unclosed quote", lead));
            };
            body = inner.trim();
            body_off = lead + 1;
        }
        let elems = compile_elems(body);
        if elems.is_empty() {
            return Err(ParseError::new(
                format!("`{trimmed}` has no letter or digit to search for"),
                body_off,
            ));
        }
        Ok(Pattern {
            src: trimmed.to_owned(),
            term: Term {
                source: body.to_owned(),
                elems,
                fields: DEFAULT_FIELDS,
            },
        })
    }

    /// The entry as written (trimmed).
    pub fn source(&self) -> &str {
        &self.src
    }
}

// ---------------------------------------------------------------------------
// Indexed offer
// ---------------------------------------------------------------------------

/// The text of one offer, as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct OfferText<'a> {
    pub title: &'a str,
    pub company: Option<&'a str>,
    pub location: Option<&'a str>,
    pub contract: Option<&'a str>,
    pub tags: &'a [String],
    pub summary: Option<&'a str>,
    pub remote: Option<bool>,
}

/// A distinct token of an offer.
#[derive(Debug, Clone)]
struct IxTok {
    start: usize,
    end: usize,
    hash: u64,
    /// [`head`] of its text.
    head: u64,
    /// Fields it occurs in.
    mask: u8,
}

/// One position of a field's atom sequence.
#[derive(Debug, Clone, Copy)]
struct Pos {
    /// Index into `toks` of the (undotted) atom; `BREAK` between two tags.
    tok: usize,
    dotted: bool,
}

const BREAK: usize = usize::MAX;
/// No token.
const NONE: usize = usize::MAX - 1;

/// An offer folded and tokenised once; every profile is evaluated against it.
#[derive(Debug, Clone)]
pub struct Indexed {
    /// Folded text of every field, each piece ended by a newline.
    arena: String,
    /// Distinct tokens (atoms, and dotted atoms with their dot), sorted by text.
    toks: Vec<IxTok>,
    /// Open addressing by hash: 0 is empty, else a `toks` index + 1.
    table: Vec<usize>,
    /// Atom sequences of all fields, one after the other.
    seq: Vec<Pos>,
    /// Each field's range in `seq`.
    ranges: [(usize, usize); NFIELDS],
    remote: Option<bool>,
}

/// A token occurrence while indexing.
struct Rec {
    start: usize,
    end: usize,
    /// Field number (bit index).
    field: usize,
    /// Its position in `seq`, or `BREAK` for the dotted form of an atom.
    seq_idx: usize,
}

impl Indexed {
    pub fn new(offer: &OfferText<'_>) -> Indexed {
        // Sized for the usual text (folding seldom grows it; about one
        // token per 6 bytes), so that the buffers are not regrown.
        let len = offer.title.len()
            + [offer.company, offer.location, offer.contract, offer.summary]
                .iter()
                .flatten()
                .map(|t| t.len())
                .sum::<usize>()
            + offer.tags.iter().map(|t| t.len() + 1).sum::<usize>()
            + 8;
        let mut arena = String::with_capacity(len);
        let mut seq = Vec::with_capacity(len / 6);
        let mut recs = Vec::with_capacity(len / 6);
        let mut ranges = [(0, 0); NFIELDS];
        let singles = [
            (0, Some(offer.title)),
            (1, offer.company),
            (2, offer.location),
            (3, offer.contract),
            (5, offer.summary),
        ];
        for (f, text) in singles {
            let begin = seq.len();
            if let Some(text) = text {
                add_piece(&mut arena, &mut seq, &mut recs, f, text);
            }
            ranges[f] = (begin, seq.len());
        }
        let begin = seq.len();
        for (k, tag) in offer.tags.iter().enumerate() {
            if k > 0 {
                seq.push(Pos {
                    tok: BREAK,
                    dotted: false,
                });
            }
            add_piece(&mut arena, &mut seq, &mut recs, 4, tag);
        }
        ranges[4] = (begin, seq.len());

        let text = |r: &Rec| arena.get(r.start..r.end).unwrap_or_default();
        recs.sort_unstable_by(|a, b| text(a).cmp(text(b)));
        let mut toks: Vec<IxTok> = Vec::new();
        for r in &recs {
            let t = text(r);
            let same = toks
                .last()
                .is_some_and(|last| arena.get(last.start..last.end) == Some(t));
            if !same {
                toks.push(IxTok {
                    start: r.start,
                    end: r.end,
                    hash: hash_str(t),
                    head: head(t.as_bytes()),
                    mask: 0,
                });
            }
            let id = toks.len() - 1;
            if let Some(last) = toks.last_mut() {
                last.mask |= 1u8 << r.field;
            }
            if let Some(p) = seq.get_mut(r.seq_idx) {
                p.tok = id;
            }
        }

        // At most half full, so every probe sequence reaches an empty slot.
        let size = toks.len().saturating_mul(2).next_power_of_two();
        let mut table = vec![0usize; size];
        let slots = size - 1;
        for (id, t) in toks.iter().enumerate() {
            let mut i = (t.hash as usize) & slots;
            while table.get(i).is_some_and(|&s| s != 0) {
                i = (i + 1) & slots;
            }
            if let Some(s) = table.get_mut(i) {
                *s = id + 1;
            }
        }

        Indexed {
            arena,
            toks,
            table,
            seq,
            ranges,
            remote: offer.remote,
        }
    }

    /// A token's folded bytes (byte comparisons skip the char-boundary
    /// checks of `str` slicing on the hot path).
    fn bytes(&self, t: &IxTok) -> &[u8] {
        self.arena
            .as_bytes()
            .get(t.start..t.end)
            .unwrap_or_default()
    }

    fn has_location(&self) -> bool {
        let (a, b) = self.ranges[2];
        b > a
    }

    /// The number (in `toks`) of the token equal to `key`, whose hash is
    /// `hash`.
    fn lookup(&self, key: &str, hash: u64) -> Option<usize> {
        let slots = self.table.len().checked_sub(1)?;
        let mut i = (hash as usize) & slots;
        loop {
            let id = self.table.get(i)?.checked_sub(1)?;
            let t = self.toks.get(id)?;
            if t.hash == hash && self.bytes(t) == key.as_bytes() {
                return Some(id);
            }
            i = (i + 1) & slots;
        }
    }

    /// Fields in which some token matches `e`.
    fn elem_mask(&self, e: &Elem) -> u8 {
        if e.prefix {
            let key = e.key.as_bytes();
            let lo = self
                .toks
                .partition_point(|t| t.head < e.head || (t.head == e.head && self.bytes(t) < key));
            self.toks
                .get(lo..)
                .unwrap_or_default()
                .iter()
                .take_while(|t| self.bytes(t).starts_with(key))
                .fold(0, |m, t| m | t.mask)
        } else {
            self.lookup(&e.key, e.key_hash)
                .and_then(|id| self.toks.get(id))
                .map_or(0, |t| t.mask)
        }
    }

    /// Whether the atom at `p` is what `e` asks for; `plain` is the number
    /// of the token equal to `e` without its dot (`NONE` for a prefix).
    fn pos_matches(&self, p: &Pos, e: &Elem, plain: usize) -> bool {
        if e.dotted && !p.dotted {
            return false;
        }
        if e.prefix {
            self.toks
                .get(p.tok)
                .is_some_and(|t| self.bytes(t).starts_with(e.plain().as_bytes()))
        } else {
            p.tok == plain
        }
    }

    /// Whether `elems` occur as consecutive atoms of field number `f`;
    /// `plain` as for [`Indexed::pos_matches`], one per element.
    fn phrase_in(&self, f: usize, elems: &[Elem], plain: &[usize]) -> bool {
        let (a, b) = self.ranges[f];
        let seq = self.seq.get(a..b).unwrap_or_default();
        if elems.is_empty() || seq.len() < elems.len() {
            return false;
        }
        seq.windows(elems.len()).any(|w| {
            w.iter()
                .zip(elems)
                .zip(plain)
                .all(|((p, e), &id)| self.pos_matches(p, e, id))
        })
    }

    /// Fields among the term's where it matches.
    fn term_mask(&self, term: &Term) -> u8 {
        let elems = &term.elems[..];
        let mut m = term.fields;
        for e in elems {
            m &= self.elem_mask(e);
            if m == 0 {
                return 0;
            }
        }
        if elems.len() < 2 {
            return m;
        }
        // A phrase: its words are all here; find them in a row, comparing
        // token numbers rather than text (on the stack for usual lengths).
        let plain_id = |e: &Elem| {
            if e.prefix {
                NONE
            } else {
                self.lookup(e.plain(), e.plain_hash).unwrap_or(NONE)
            }
        };
        let mut short = [NONE; 8];
        let long: Vec<usize>;
        let plain = if let Some(ids) = short.get_mut(..elems.len()) {
            ids.iter_mut()
                .zip(elems)
                .for_each(|(id, e)| *id = plain_id(e));
            &*ids
        } else {
            long = elems.iter().map(plain_id).collect();
            &long[..]
        };
        (0..NFIELDS)
            .filter(|&f| m & (1 << f) != 0 && self.phrase_in(f, elems, plain))
            .fold(0, |acc, f| acc | (1 << f))
    }
}

fn add_piece(
    arena: &mut String,
    seq: &mut Vec<Pos>,
    recs: &mut Vec<Rec>,
    field: usize,
    text: &str,
) {
    let begin = arena.len();
    fold_into(arena, text);
    let piece = arena.get(begin..).unwrap_or_default();
    for_each_atom(piece, |a| {
        let (start, end) = (begin + a.start, begin + a.end);
        recs.push(Rec {
            start,
            end,
            field,
            seq_idx: seq.len(),
        });
        seq.push(Pos {
            tok: BREAK,
            dotted: a.dotted,
        });
        if a.dotted {
            recs.push(Rec {
                start: start - 1,
                end,
                field,
                seq_idx: BREAK,
            });
        }
    });
    // Keeps pieces apart (no atom nor dot crosses a newline).
    arena.push('\n');
}

// ---------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------

/// A profile's criteria, as compiled from the configuration.
#[derive(Debug, Clone, Default)]
pub struct ProfileSpec {
    pub query: Option<Query>,
    /// Any of them must match (searched like an unfielded query term).
    pub keywords: Vec<Pattern>,
    /// None may match, in title, company, location, tags or summary.
    pub exclude: Vec<Pattern>,
    /// If non-empty, an offer with a location must match one of them there.
    pub locations: Vec<Pattern>,
    /// None may match the company.
    pub block_companies: Vec<Pattern>,
}

/// What a matched offer scored, and the profile words it matched.
///
/// `score` sums, over the distinct matched positive words, the weight of the
/// best field each matched in (title 3, company/location/contract 2, tags
/// 1.5, summary 1). `words` are the positive query terms (not under a `NOT`)
/// and keywords that matched, as written but without field prefix or quotes
/// (`title:Rust` shows `Rust`), deduplicated case- and accent-insensitively,
/// query terms first, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    pub score: f32,
    /// Matched query/keyword terms as written, deduplicated, in query order
    /// (borrowed from the profile: most evaluations are thrown away).
    pub words: Vec<&'a str>,
}

/// The positive terms (indices into `Matcher::terms`) shown as one word.
#[derive(Debug, Clone)]
struct Word {
    source: String,
    terms: Vec<usize>,
}

/// How many terms of a profile `evaluate` remembers the result of.
const CACHED: usize = 64;
const UNKNOWN: u8 = u8::MAX;

/// A compiled profile.
///
/// Every term it searches for (query terms, keywords, excludes, blocked
/// companies, locations, and the words that make a location remote) is in
/// one list, each with the fields it is searched in, so that a
/// [`MatcherSet`] can evaluate a term shared by many profiles once per offer.
#[derive(Debug, Clone)]
pub struct Matcher {
    terms: Vec<Term>,
    query: Option<Node>,
    /// Ranges of `terms`, one per criterion.
    keywords: Range<usize>,
    exclude: Range<usize>,
    block_companies: Range<usize>,
    locations: Range<usize>,
    /// Per location entry: it is `remote` or `télétravail`.
    remote_entry: Vec<bool>,
    /// `remote` and `teletravail`, looked for in the location of an offer
    /// for a remote location entry.
    remote_words: Range<usize>,
    words: Vec<Word>,
}

/// Collects, in order, the terms of `node` under an even number of NOTs.
fn positive_terms(node: &Node, positive: bool, out: &mut Vec<usize>) {
    match node {
        Node::Term(i) => {
            if positive {
                out.push(*i);
            }
        }
        Node::And(v) | Node::Or(v) => v.iter().for_each(|n| positive_terms(n, positive, out)),
        Node::Not(n) => positive_terms(n, !positive, out),
    }
}

/// Appends `patterns` to `terms`, searched in `fields`; returns their range.
fn push_terms(
    terms: &mut Vec<Term>,
    patterns: impl IntoIterator<Item = Pattern>,
    fields: u8,
) -> Range<usize> {
    let start = terms.len();
    terms.extend(patterns.into_iter().map(|p| Term { fields, ..p.term }));
    start..terms.len()
}

impl Matcher {
    pub fn new(spec: ProfileSpec) -> Matcher {
        let (mut terms, query) = match spec.query {
            Some(q) => (q.terms, Some(q.root)),
            None => (Vec::new(), None),
        };
        let mut positive = Vec::new();
        if let Some(root) = &query {
            positive_terms(root, true, &mut positive);
        }
        let keywords = push_terms(&mut terms, spec.keywords, DEFAULT_FIELDS);
        positive.extend(keywords.clone());

        let mut words: Vec<Word> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for i in positive {
            let Some(t) = terms.get(i) else { continue };
            let key = fold(&t.source);
            match keys.iter().position(|k| *k == key) {
                Some(w) => {
                    if let Some(w) = words.get_mut(w) {
                        w.terms.push(i);
                    }
                }
                None => {
                    keys.push(key);
                    words.push(Word {
                        source: t.source.clone(),
                        terms: vec![i],
                    });
                }
            }
        }

        let exclude = push_terms(&mut terms, spec.exclude, DEFAULT_FIELDS);
        let block_companies = push_terms(&mut terms, spec.block_companies, COMPANY);
        let locations = push_terms(&mut terms, spec.locations, LOCATION);
        let remote_entry = terms
            .get(locations.clone())
            .unwrap_or_default()
            .iter()
            .map(|t| {
                t.elems.len() == 1
                    && t.elems.iter().all(|e| {
                        !e.prefix && !e.dotted && matches!(&*e.key, "remote" | "teletravail")
                    })
            })
            .collect();
        let start = terms.len();
        for word in ["remote", "teletravail"] {
            terms.push(Term {
                source: word.to_owned(),
                elems: compile_elems(word),
                fields: LOCATION,
            });
        }
        let remote_words = start..terms.len();

        Matcher {
            terms,
            query,
            keywords,
            exclude,
            block_companies,
            locations,
            remote_entry,
            remote_words,
            words,
        }
    }

    /// Evaluates the profile against an offer: `None` if it does not match.
    pub fn evaluate(&self, offer: &Indexed) -> Option<Match<'_>> {
        // Remembers the first `CACHED` terms, so that scoring does not redo
        // what the filters did.
        let mut cache = [UNKNOWN; CACHED];
        self.decide(
            &mut |i| {
                if let Some(&m) = cache.get(i)
                    && m != UNKNOWN
                {
                    return m;
                }
                let m = self.terms.get(i).map_or(0, |t| offer.term_mask(t));
                if let Some(c) = cache.get_mut(i) {
                    *c = m;
                }
                m
            },
            offer,
        )
    }

    fn eval(&self, node: &Node, mask: &mut impl FnMut(usize) -> u8) -> bool {
        match node {
            Node::Term(i) => mask(*i) != 0,
            Node::And(v) => v.iter().all(|n| self.eval(n, mask)),
            Node::Or(v) => v.iter().any(|n| self.eval(n, mask)),
            Node::Not(n) => !self.eval(n, mask),
        }
    }

    fn location_ok(&self, offer: &Indexed, mask: &mut impl FnMut(usize) -> u8) -> bool {
        if self.locations.is_empty() || !offer.has_location() {
            return true;
        }
        let mut remote = None;
        self.locations
            .clone()
            .zip(&self.remote_entry)
            .any(|(i, &remote_entry)| {
                mask(i) != 0
                    || (remote_entry
                        && *remote.get_or_insert_with(|| {
                            offer.remote == Some(true)
                                || self.remote_words.clone().any(|w| mask(w) != 0)
                        }))
            })
    }

    /// The decision, given `mask(i)`: the fields where term `i` matches the
    /// offer.
    fn decide(&self, mask: &mut impl FnMut(usize) -> u8, offer: &Indexed) -> Option<Match<'_>> {
        if self.exclude.clone().any(|i| mask(i) != 0)
            || self.block_companies.clone().any(|i| mask(i) != 0)
            || !self.location_ok(offer, mask)
        {
            return None;
        }
        if let Some(root) = &self.query
            && !self.eval(root, mask)
        {
            return None;
        }
        if !self.keywords.is_empty() && !self.keywords.clone().any(|i| mask(i) != 0) {
            return None;
        }
        let mut score = 0.0;
        let mut words = Vec::with_capacity(self.words.len());
        for w in &self.words {
            let m = w.terms.iter().fold(0, |m, &i| m | mask(i));
            if m != 0 {
                score += best_weight(m);
                words.push(w.source.as_str());
            }
        }
        Some(Match { score, words })
    }
}

// ---------------------------------------------------------------------------
// Many profiles
// ---------------------------------------------------------------------------

/// Identity of a term for sharing: what it searches and where (two terms
/// with the same key match the same fields of every offer).
fn term_key(t: &Term) -> Vec<u8> {
    let mut key = vec![t.fields];
    for e in &t.elems {
        key.push(u8::from(e.dotted) | u8::from(e.prefix) << 1);
        key.extend_from_slice(e.key.as_bytes());
        key.push(0);
    }
    key
}

/// Every profile of a watchlist, compiled together: the terms they share
/// are searched once per offer, however many profiles use them.
#[derive(Debug, Clone, Default)]
pub struct MatcherSet {
    matchers: Vec<Matcher>,
    /// The distinct terms of all profiles.
    terms: Vec<Term>,
    /// For each matcher, its term numbers in `terms`.
    ids: Vec<Vec<u32>>,
    /// The terms that are one plain word (no prefix, no phrase), by the
    /// hash of their key, sorted: they are found from the offer's side, by
    /// looking up each token of the offer once.
    words: Vec<(u64, u32)>,
    /// Every term's mask before an offer is seen: 0 for the one-word terms
    /// (absent unless a token says otherwise), `UNKNOWN` for the others
    /// (searched when a profile asks).
    blank: Vec<u8>,
}

impl MatcherSet {
    pub fn new(matchers: Vec<Matcher>) -> MatcherSet {
        let mut seen: std::collections::HashMap<Vec<u8>, u32> = Default::default();
        let mut terms = Vec::new();
        let ids = matchers
            .iter()
            .map(|m| {
                m.terms
                    .iter()
                    .map(|t| {
                        *seen.entry(term_key(t)).or_insert_with(|| {
                            terms.push(t.clone());
                            u32::try_from(terms.len() - 1).unwrap_or(u32::MAX)
                        })
                    })
                    .collect()
            })
            .collect();
        let one_word = |t: &Term| matches!(&t.elems[..], [e] if !e.prefix);
        let mut words: Vec<(u64, u32)> = (0..terms.len())
            .filter_map(|g| {
                let t: &Term = terms.get(g)?;
                let e = t.elems.first().filter(|_| one_word(t))?;
                Some((e.key_hash, u32::try_from(g).ok()?))
            })
            .collect();
        words.sort_unstable();
        let blank = terms
            .iter()
            .map(|t| if one_word(t) { 0 } else { UNKNOWN })
            .collect();
        MatcherSet {
            matchers,
            terms,
            ids,
            words,
            blank,
        }
    }

    /// How many profiles.
    pub fn len(&self) -> usize {
        self.matchers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.matchers.is_empty()
    }

    /// Starts evaluating the profiles on one offer.
    pub fn on<'a>(&'a self, offer: &'a Indexed) -> OfferEval<'a> {
        let mut masks = self.blank.clone();
        for tok in &offer.toks {
            let from = self.words.partition_point(|&(h, _)| h < tok.hash);
            for &(h, g) in self.words.get(from..).unwrap_or_default() {
                if h != tok.hash {
                    break;
                }
                let g = g as usize;
                if let (Some(t), Some(slot)) = (self.terms.get(g), masks.get_mut(g))
                    && t.elems.first().map(|e| e.key.as_bytes()) == Some(offer.bytes(tok))
                {
                    *slot = tok.mask & t.fields;
                }
            }
        }
        OfferEval {
            set: self,
            offer,
            masks,
        }
    }
}

/// The profiles of a [`MatcherSet`] being evaluated on one offer; each
/// distinct term is searched at most once.
#[derive(Debug)]
pub struct OfferEval<'a> {
    set: &'a MatcherSet,
    offer: &'a Indexed,
    /// Per distinct term: the fields it matched in, or `UNKNOWN`.
    masks: Vec<u8>,
}

impl<'a> OfferEval<'a> {
    /// Evaluates profile number `k` (in the order given to
    /// [`MatcherSet::new`]); `None` if it does not match or does not exist.
    pub fn evaluate(&mut self, k: usize) -> Option<Match<'a>> {
        let matcher = self.set.matchers.get(k)?;
        let ids = self.set.ids.get(k)?;
        let (terms, offer, masks) = (&self.set.terms, self.offer, &mut self.masks);
        matcher.decide(
            &mut |i| {
                let Some(&g) = ids.get(i) else { return 0 };
                let g = g as usize;
                match masks.get(g) {
                    Some(&m) if m != UNKNOWN => m,
                    _ => {
                        let m = terms.get(g).map_or(0, |t| offer.term_mask(t));
                        if let Some(slot) = masks.get_mut(g) {
                            *slot = m;
                        }
                        m
                    }
                }
            },
            offer,
        )
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn title_offer(title: &str) -> Indexed {
        Indexed::new(&OfferText {
            title,
            company: None,
            location: None,
            contract: None,
            tags: &[],
            summary: None,
            remote: None,
        })
    }

    fn query(src: &str) -> Matcher {
        Matcher::new(ProfileSpec {
            query: Some(Query::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"))),
            ..ProfileSpec::default()
        })
    }

    /// Does query `q` match an offer titled `title`?
    fn qt(q: &str, title: &str) -> bool {
        query(q).evaluate(&title_offer(title)).is_some()
    }

    fn pats(list: &[&str]) -> Vec<Pattern> {
        list.iter()
            .map(|s| Pattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect()
    }

    fn err(q: &str) -> ParseError {
        match Query::parse(q) {
            Ok(_) => panic!("{q:?} parsed"),
            Err(e) => e,
        }
    }

    struct Full {
        title: &'static str,
        company: Option<&'static str>,
        location: Option<&'static str>,
        contract: Option<&'static str>,
        tags: Vec<String>,
        summary: Option<&'static str>,
        remote: Option<bool>,
    }

    impl Full {
        fn new(title: &'static str) -> Full {
            Full {
                title,
                company: None,
                location: None,
                contract: None,
                tags: Vec::new(),
                summary: None,
                remote: None,
            }
        }
        fn ix(&self) -> Indexed {
            Indexed::new(&OfferText {
                title: self.title,
                company: self.company,
                location: self.location,
                contract: self.contract,
                tags: &self.tags,
                summary: self.summary,
                remote: self.remote,
            })
        }
    }

    // --- folding ---

    #[test]
    fn fold_basics() {
        assert_eq!(fold("Développeur ÉCOLE"), "developpeur ecole");
        assert_eq!(
            fold("Œuvre Cœur Æther straße"),
            "oeuvre coeur aether strasse"
        );
        assert_eq!(fold("ẞ"), "ss");
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("C++ / C#"), "c++ / c#");
    }

    #[test]
    fn fold_idempotent_on_every_char() {
        // fold works char by char, so this proves idempotence on all strings.
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let once = fold(&c.to_string());
            assert_eq!(fold(&once), once, "U+{:04X}", c as u32);
        }
    }

    // --- operators ---

    #[test]
    fn and_by_juxtaposition_and_explicit() {
        for q in ["rust senior", "rust AND senior"] {
            assert!(qt(q, "Senior Rust engineer"));
            assert!(!qt(q, "Rust engineer"));
            assert!(!qt(q, "Senior engineer"));
        }
    }

    #[test]
    fn or_alternatives() {
        assert!(qt("rust OR go", "Go developer"));
        assert!(qt("rust OR go", "Rust developer"));
        assert!(!qt("rust OR go", "Java developer"));
    }

    #[test]
    fn precedence() {
        // a b OR c == (a b) OR c
        assert!(qt("senior rust OR go", "Go developer"));
        assert!(qt("senior rust OR go", "Senior Rust"));
        assert!(!qt("senior rust OR go", "Senior Java"));
        assert!(!qt("senior rust OR go", "Rust"));
        // -a b == (NOT a) AND b
        assert!(qt("-java rust", "Rust dev"));
        assert!(!qt("-java rust", "Rust Java dev"));
        assert!(!qt("-java rust", "Go dev"));
        // NOT a OR b == (NOT a) OR b
        assert!(qt("NOT java OR rust", "Java Rust"));
        assert!(qt("NOT java OR rust", "Go"));
        assert!(!qt("NOT java OR rust", "Java"));
    }

    #[test]
    fn not_and_minus() {
        for q in ["rust NOT senior", "rust -senior"] {
            assert!(qt(q, "Rust junior"));
            assert!(!qt(q, "Senior Rust"));
        }
        assert!(qt("-senior", "Anything"));
        assert!(!qt("NOT (senior OR lead) rust", "Lead Rust"));
        assert!(qt("NOT (senior OR lead) rust", "Rust dev"));
        assert!(!qt("rust -\"tech lead\"", "Rust tech lead"));
        assert!(qt("rust -\"tech lead\"", "Rust lead tech"));
        // A hyphen inside a word is not a negation.
        assert!(qt("full-stack", "Full-stack dev"));
    }

    #[test]
    fn lowercase_operators_are_words() {
        assert!(!qt("rust or go", "Rust go"));
        assert!(qt("rust or go", "Rust or Go"));
        assert!(!qt("rust and go", "Rust go"));
        assert!(qt("rust not", "Rust, not Go"));
    }

    #[test]
    fn phrases() {
        assert!(qt("\"senior developer\"", "Senior Developer (Rust)"));
        assert!(qt("\"senior developer\"", "Senior-developer"));
        assert!(!qt("\"senior developer\"", "Developer senior"));
        assert!(!qt("\"senior developer\"", "Senior Rust developer"));
        assert!(qt("\"senior dev*\"", "Senior Développeur"));
        assert!(qt("\"or\"", "this or that"));
    }

    #[test]
    fn parentheses() {
        let q = "(rust OR go) (senior OR lead)";
        assert!(qt(q, "Lead Go"));
        assert!(qt(q, "Senior Rust"));
        assert!(!qt(q, "Senior Java"));
        assert!(!qt(q, "Rust junior"));
        assert!(qt("((rust))", "rust"));
    }

    #[test]
    fn field_prefixes() {
        let mut o = Full::new("Rust developer");
        o.company = Some("Acme Corp");
        o.location = Some("Lyon, France");
        o.contract = Some("CDI");
        o.summary = Some("Paris office, stage possible");
        let ix = o.ix();
        let m = |q: &str| query(q).evaluate(&ix).is_some();
        assert!(m("title:rust"));
        assert!(!m("title:acme"));
        assert!(m("company:acme"));
        assert!(!m("company:rust"));
        assert!(m("location:lyon"));
        assert!(!m("location:paris"));
        assert!(m("paris"));
        assert!(m("contract:cdi"));
        assert!(!m("contract:stage"));
        // contract is not searched by default
        assert!(!m("cdi"));
        assert!(m("title:\"rust developer\""));
        assert!(m("title:(go OR rust)"));
        assert!(!m("title:(go OR acme)"));
        assert!(m("Title:Rust"));
        assert!(m("-title:acme"));
        assert!(m("title:-acme"));
        assert!(!m("-company:acme"));
    }

    #[test]
    fn prefix() {
        assert!(qt("dev*", "Développeuse"));
        assert!(qt("dev*", "DevOps"));
        assert!(qt("dev*", "Dev"));
        assert!(!qt("dev*", "Webdev"));
        assert!(qt("full-st*", "Full stack"));
    }

    #[test]
    fn whole_words() {
        assert!(qt("rust", "Rust engineer"));
        assert!(!qt("rust", "Trust engineer"));
        assert!(!qt("rust", "Rusty"));
        assert!(!qt("ingenieur", "Software engineer"));
        assert!(qt("ingenieur", "Ingénieur logiciel"));
    }

    #[test]
    fn accents_both_ways() {
        assert!(qt("developpeur", "Développeur"));
        assert!(qt("développeur", "DEVELOPPEUR"));
        assert!(qt("DÉVELOPPEUR", "développeur"));
        assert!(qt("coeur", "Cœur de métier"));
        assert!(qt("œuvre", "OEUVRE"));
    }

    #[test]
    fn special_words() {
        // c++
        assert!(qt("c++", "C++ developer"));
        assert!(qt("c++", "Embedded C/C++"));
        assert!(qt("c++", "Dev (C++)"));
        assert!(qt("c++", "C++, Rust"));
        assert!(!qt("c++", "C developer"));
        assert!(!qt("c", "C++ developer"));
        assert!(!qt("c", "C# developer"));
        assert!(qt("c", "C/C++"));
        assert!(qt("c", "Développeur C"));
        // c#
        assert!(qt("c#", "C#/.NET developer"));
        assert!(qt("c#", "Dev c#, azure"));
        assert!(!qt("c#", "C developer"));
        // .net
        assert!(qt(".net", ".NET developer"));
        assert!(qt(".net", "ASP.NET MVC"));
        assert!(qt(".net", "C#/.NET."));
        assert!(!qt(".net", "Net income analyst"));
        assert!(qt("net", ".NET developer"));
        assert!(qt("asp.net", "ASP.NET"));
        // node.js
        assert!(qt("node.js", "Node.js developer"));
        assert!(qt("node.js", "Backend (Node.js.)"));
        assert!(qt("node", "Node.js developer"));
        assert!(qt("js", "Node.js developer"));
        assert!(!qt("node.js", "Node developer"));
        // bac+5
        assert!(qt("bac", "Bac+5 requis"));
        assert!(qt("bac+5", "BAC+5"));
    }

    #[test]
    fn trailing_punctuation() {
        assert!(qt("rust", "Rust, Go"));
        assert!(qt("node.js", "We use Node.js."));
        assert!(qt("c++", "Skills (C++)"));
        assert!(qt("go", "Rust/Go!"));
    }

    #[test]
    fn joined_forms() {
        let forms = [
            "Développeur·se Rust",
            "Développeur.se Rust",
            "Développeur(se) Rust",
            "Développeur/euse Rust",
            "Développeur-euse Rust",
            "Développeur·euse·s Rust",
        ];
        for f in forms {
            assert!(qt("developpeur", f), "{f}");
            assert!(qt("développeur rust", f), "{f}");
        }
        for f in &forms[..3] {
            assert!(qt("développeur·se", f), "{f}");
            assert!(qt("développeur(se)", f), "{f}");
            assert!(qt("développeur.se", f), "{f}");
        }
        assert!(qt("développeur/euse", "Développeur/euse"));
        assert!(qt("développeur-euse", "Développeur-euse"));
        assert!(!qt("développeur·se", "Développeur Rust"));
        assert!(qt("se", "Développeur·se"));
    }

    #[test]
    fn hyphenated_terms() {
        assert!(qt("full-stack", "Full stack developer"));
        assert!(qt("full-stack", "full-stack"));
        assert!(qt("full-stack", "Full-Stack Engineer"));
        assert!(qt("full", "Full-Stack Engineer"));
        assert!(qt("stack", "Full-Stack Engineer"));
        assert!(!qt("full-stack", "Stack full"));
        assert!(!qt("full-stack", "Fullstack"));
    }

    #[test]
    fn phrase_does_not_cross_tags() {
        let mut o = Full::new("x");
        o.tags = vec!["senior".into(), "rust".into()];
        let ix = o.ix();
        assert!(query("senior rust").evaluate(&ix).is_some());
        assert!(query("\"senior rust\"").evaluate(&ix).is_none());
        o.tags = vec!["senior rust".into()];
        assert!(query("\"senior rust\"").evaluate(&o.ix()).is_some());
    }

    // --- profiles ---

    #[test]
    fn exclude() {
        let m = Matcher::new(ProfileSpec {
            exclude: pats(&["stage", "\"big corp\"", "alter*"]),
            ..ProfileSpec::default()
        });
        assert!(m.evaluate(&title_offer("Rust dev")).is_some());
        assert!(m.evaluate(&title_offer("Stage Rust")).is_none());
        assert!(m.evaluate(&title_offer("Rust alternance")).is_none());
        assert!(m.evaluate(&title_offer("Rust at Big Corp")).is_none());
        assert!(m.evaluate(&title_offer("Big Rust corp")).is_some());
        let mut o = Full::new("Rust dev");
        o.summary = Some("Un stage de 6 mois");
        assert!(m.evaluate(&o.ix()).is_none());
        let mut o = Full::new("Rust dev");
        o.tags = vec!["Stage".into()];
        assert!(m.evaluate(&o.ix()).is_none());
    }

    #[test]
    fn block_companies() {
        let m = Matcher::new(ProfileSpec {
            block_companies: pats(&["Acme", "Evil Corp"]),
            ..ProfileSpec::default()
        });
        let mut o = Full::new("Rust dev");
        o.company = Some("ACME SAS");
        assert!(m.evaluate(&o.ix()).is_none());
        o.company = Some("Evil Corp.");
        assert!(m.evaluate(&o.ix()).is_none());
        o.company = Some("Good Corp");
        assert!(m.evaluate(&o.ix()).is_some());
        // only the company field counts
        let mut o = Full::new("Acme replacement");
        o.company = Some("Other");
        assert!(m.evaluate(&o.ix()).is_some());
    }

    #[test]
    fn locations() {
        let m = Matcher::new(ProfileSpec {
            locations: pats(&["Lyon", "remote", "ile-de-france"]),
            ..ProfileSpec::default()
        });
        let with = |loc: Option<&'static str>, remote: Option<bool>| {
            let mut o = Full::new("Rust dev");
            o.location = loc;
            o.remote = remote;
            m.evaluate(&o.ix()).is_some()
        };
        assert!(with(Some("Lyon (69)"), None));
        assert!(with(Some("Paris, Île-de-France"), None));
        assert!(!with(Some("Paris"), None));
        assert!(!with(Some("Paris"), Some(false)));
        assert!(with(Some("Paris"), Some(true)));
        assert!(with(Some("Remote, EU"), None));
        assert!(with(Some("Télétravail"), None));
        assert!(with(None, None));
        assert!(with(Some(""), None));
        assert!(with(Some("  "), Some(false)));
        // the location filter only looks at the location
        let mut o = Full::new("Lyon office");
        o.location = Some("Paris");
        assert!(m.evaluate(&o.ix()).is_none());
        // without remote entry, remote offers need a location match
        let m = Matcher::new(ProfileSpec {
            locations: pats(&["Lyon"]),
            ..ProfileSpec::default()
        });
        let mut o = Full::new("Rust dev");
        o.location = Some("Paris");
        o.remote = Some(true);
        assert!(m.evaluate(&o.ix()).is_none());
    }

    #[test]
    fn keywords_and_query() {
        let both = Matcher::new(ProfileSpec {
            query: Query::parse("rust").ok(),
            keywords: pats(&["stage", "alternance"]),
            ..ProfileSpec::default()
        });
        assert!(both.evaluate(&title_offer("Stage Rust")).is_some());
        assert!(both.evaluate(&title_offer("Rust alternance")).is_some());
        assert!(both.evaluate(&title_offer("Rust CDI")).is_none());
        assert!(both.evaluate(&title_offer("Stage Go")).is_none());
        let kw = Matcher::new(ProfileSpec {
            keywords: pats(&["stage", "\"senior rust\"", "dev*"]),
            ..ProfileSpec::default()
        });
        assert!(kw.evaluate(&title_offer("Stage")).is_some());
        assert!(kw.evaluate(&title_offer("Senior Rust")).is_some());
        assert!(kw.evaluate(&title_offer("Rust senior")).is_none());
        assert!(kw.evaluate(&title_offer("Développeuse")).is_some());
    }

    #[test]
    fn empty_profile_matches_all() {
        let m = Matcher::new(ProfileSpec::default());
        let r = m.evaluate(&title_offer("Anything"));
        assert_eq!(
            r,
            Some(Match {
                score: 0.0,
                words: vec![]
            })
        );
        assert!(m.evaluate(&title_offer("")).is_some());
    }

    #[test]
    fn score_and_words() {
        let m = Matcher::new(ProfileSpec {
            query: Query::parse("Rust (stage OR alternance) -java rust title:RUST").ok(),
            keywords: pats(&["stage", "\"Lyon office\""]),
            ..ProfileSpec::default()
        });
        let mut a = Full::new("Stage Rust");
        a.summary = Some("Lyon office");
        let mut b = Full::new("Stage");
        b.summary = Some("Rust at the Lyon office");
        let ra = m.evaluate(&a.ix()).expect("a matches");
        assert_eq!(ra.words, vec!["Rust", "stage", "Lyon office"]);
        assert!(query("title:rust").evaluate(&b.ix()).is_none());
        let m2 = Matcher::new(ProfileSpec {
            query: Query::parse("rust stage").ok(),
            ..ProfileSpec::default()
        });
        let sa = m2.evaluate(&a.ix()).expect("a").score;
        let sb = m2.evaluate(&b.ix()).expect("b").score;
        assert!(sa > sb, "{sa} {sb}");
        assert_eq!(sa, 6.0);
        assert_eq!(sb, 4.0);
        // Negated terms are not shown.
        let m = query("rust -java OR go");
        let r = m.evaluate(&title_offer("Rust"));
        assert_eq!(r.map(|m| m.words), Some(vec!["rust"]));
    }

    // --- errors ---

    #[test]
    fn parse_errors() {
        let e = err("rust \"senior dev");
        assert_eq!((e.message.as_str(), e.offset), ("unclosed quote", 5));
        let e = err("rust (go OR c");
        assert!(e.message.contains("unbalanced parenthesis"), "{e}");
        assert_eq!(e.offset, 5);
        let e = err("rust go) c");
        assert!(e.message.contains("unbalanced parenthesis"), "{e}");
        assert_eq!(e.offset, 7);
        let e = err("rust OR");
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("expected a term after OR", 5)
        );
        let e = err("OR rust");
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("expected a term before OR", 0)
        );
        let e = err("rust OR OR go");
        assert_eq!(e.offset, 5);
        let e = err("(rust OR) go");
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("expected a term after OR", 6)
        );
        let e = err("rust AND");
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("expected a term after AND", 5)
        );
        for q in ["", "   ", "\t\n"] {
            assert_eq!(err(q).message, "empty query");
        }
        let e = err("rust NOT");
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("expected a term after NOT", 5)
        );
        let e = err("rust - go");
        assert_eq!(e.offset, 5);
        let e = err("rust foo:bar");
        assert_eq!(
            e.message,
            "unknown field `foo:` (use title:, company:, location:, contract:)"
        );
        assert_eq!(e.offset, 5);
        let e = err("title: rust");
        assert_eq!(e.offset, 0);
        assert!(e.message.contains("title:"));
        let e = err("rust title:");
        assert_eq!(e.offset, 5);
        let e = err("a () b");
        assert_eq!((e.message.as_str(), e.offset), ("empty parentheses", 2));
        let e = err("rust & go");
        assert_eq!(e.offset, 5);
        let e = err("rust \"\"");
        assert_eq!((e.message.as_str(), e.offset), ("empty phrase", 5));
        assert!(err(&"(".repeat(1000)).message.contains("deep"));
        assert!(
            err(&format!("{}x", "-".repeat(1000)))
                .message
                .contains("deep")
        );
        assert!(format!("{}", err("\"")).contains("unclosed quote"));
    }

    #[test]
    fn pattern_parse() {
        let p = Pattern::parse("  \"Senior Dev\" ").expect("phrase");
        assert_eq!(p.source(), "\"Senior Dev\"");
        assert_eq!(p.term.elems.len(), 2);
        assert_eq!(
            Pattern::parse("senior dev")
                .expect("words")
                .term
                .elems
                .len(),
            2
        );
        assert!(Pattern::parse("dev*").expect("prefix").term.elems[0].prefix);
        assert_eq!(
            Pattern::parse("").map_err(|e| e.message).err().as_deref(),
            Some("empty pattern")
        );
        let e = Pattern::parse("  \"open").expect_err("unclosed");
        assert_eq!((e.message.as_str(), e.offset), ("unclosed quote", 2));
        assert!(Pattern::parse("!!").is_err());
        // operators are plain words in patterns
        assert_eq!(Pattern::parse("rust OR go").expect("p").term.elems.len(), 3);
    }

    // --- properties ---

    /// A query tree over simple words: (query text, positive words).
    fn tree() -> impl Strategy<Value = (String, Vec<String>)> {
        let word =
            "[a-zA-Z0-9éèêàçùôîïÉÈÀÇœŒæß]{1,8}".prop_filter("not an operator", |w| !is_operator(w));
        let leaf = word.prop_map(|w| (w.clone(), vec![w]));
        leaf.prop_recursive(4, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(|v| {
                    let q = v.iter().map(|(q, _)| format!("({q})")).collect::<Vec<_>>();
                    (q.join(" "), v.into_iter().flat_map(|(_, w)| w).collect())
                }),
                prop::collection::vec(inner, 2..4).prop_map(|v| {
                    let q = v.iter().map(|(q, _)| format!("({q})")).collect::<Vec<_>>();
                    (q.join(" OR "), v.into_iter().flat_map(|(_, w)| w).collect())
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn prop_fold_idempotent(s in any::<String>()) {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }

        #[test]
        fn prop_title_of_positive_words_matches((q, words) in tree(), upper in any::<bool>()) {
            let title = words
                .iter()
                .map(|w| if upper { w.to_uppercase() } else { w.clone() })
                .collect::<Vec<_>>()
                .join(", ");
            let m = query(&q);
            prop_assert!(m.evaluate(&title_offer(&title)).is_some(), "{} vs {}", q, title);
        }

        #[test]
        fn prop_set_agrees_with_each_matcher(
            queries in prop::collection::vec("(-?(title:|company:)?[abc]{1,2}\\*? ){1,4}", 1..6),
            lists in prop::collection::vec(prop::collection::vec("[abc]{1,2}|remote", 0..3), 4),
            words in prop::collection::vec("[abc]{1,2}|remote|télétravail", 0..8),
            remote in any::<Option<bool>>(),
        ) {
            let pats = |l: &[String]| l.iter().filter_map(|p| Pattern::parse(p).ok()).collect::<Vec<_>>();
            let matchers: Vec<Matcher> = queries
                .iter()
                .enumerate()
                .map(|(i, q)| Matcher::new(ProfileSpec {
                    query: Query::parse(q).ok(),
                    keywords: pats(&lists[i % 4]),
                    exclude: pats(&lists[(i + 1) % 4]),
                    locations: pats(&lists[(i + 2) % 4]),
                    block_companies: pats(&lists[(i + 3) % 4]),
                }))
                .collect();
            let set = MatcherSet::new(matchers.clone());
            let half = words.len() / 2;
            let title = words[..half].join(" ");
            let rest = words[half..].join(" ");
            let tags = vec![rest.clone()];
            let offer = Indexed::new(&OfferText {
                title: &title,
                company: Some(&rest),
                location: Some(&rest),
                contract: None,
                tags: &tags,
                summary: Some(&title),
                remote,
            });
            let mut eval = set.on(&offer);
            for (k, m) in matchers.iter().enumerate() {
                prop_assert_eq!(eval.evaluate(k), m.evaluate(&offer));
            }
            prop_assert_eq!(eval.evaluate(matchers.len()), None);
        }

        #[test]
        fn prop_parse_never_panics(s in any::<String>()) {
            let _ = Query::parse(&s);
            let _ = Pattern::parse(&s);
        }

        #[test]
        fn prop_query_like_never_panics(
            q in "[a-zA-Z0-9 ()\"*:.+#·/ée-]{0,40}",
            t in "[a-zA-Z0-9 ()*:.+#·/é-]{0,40}",
        ) {
            if let Ok(q) = Query::parse(&q) {
                let m = Matcher::new(ProfileSpec { query: Some(q), ..ProfileSpec::default() });
                let _ = m.evaluate(&title_offer(&t));
            }
            if let Ok(p) = Pattern::parse(&q) {
                let m = Matcher::new(ProfileSpec {
                    keywords: vec![p.clone()],
                    exclude: vec![p.clone()],
                    locations: vec![p.clone()],
                    block_companies: vec![p],
                    ..ProfileSpec::default()
                });
                let _ = m.evaluate(&title_offer(&t));
            }
        }

        #[test]
        fn prop_index_never_panics(s in any::<String>(), q in "[a-z.+#*]{1,6}") {
            let tags = vec![s.clone(), s.clone()];
            let ix = Indexed::new(&OfferText {
                title: &s,
                company: Some(&s),
                location: Some(&s),
                contract: Some(&s),
                tags: &tags,
                summary: Some(&s),
                remote: Some(true),
            });
            if let Ok(p) = Pattern::parse(&q) {
                let m = Matcher::new(ProfileSpec { keywords: vec![p], ..ProfileSpec::default() });
                let _ = m.evaluate(&ix);
            }
        }
    }
}
