//! Local delivery of one finished message into a Maildir.
//!
//! Owns: the Maildir layout (`tmp/`, `new/`, `cur/`), unique file names and
//! the write-fsync-rename sequence that makes a message appear in `new/` only
//! once it is complete and durable.
//! Does not own: building the message (see `digest::to_message`), choosing
//! the directory, retries, or anything a mail reader does with `cur/`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes deliveries from this process within one microsecond.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many fresh names to try when one is already taken in `tmp/` (only a
/// clock going backwards or a foreign writer can cause that).
const NAME_ATTEMPTS: usize = 16;

/// Delivers `message` (RFC 5322 bytes) into the Maildir at `dir`, creating
/// `dir/{tmp,new,cur}` when missing, and returns the path of the file in
/// `new/`.
///
/// The message is written to `tmp/` under a unique name, fsynced, renamed
/// into `new/`, and `new/` is fsynced, so readers never see a partial file
/// and a delivered message survives a crash. On error nothing is left in
/// `new/` and the temporary file is removed when possible.
pub fn deliver(dir: &Path, message: &[u8]) -> io::Result<PathBuf> {
    let tmp = dir.join("tmp");
    let new = dir.join("new");
    for sub in [&tmp, &new, &dir.join("cur")] {
        fs::create_dir_all(sub)?;
    }

    let (name, mut file) = create_unique(&tmp)?;
    let tmp_path = tmp.join(&name);
    let written = file.write_all(message).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        // Best effort: the write error is the one worth reporting.
        let _ = fs::remove_file(&tmp_path);
        return Err(e);
    }

    let new_path = new.join(&name);
    // `rename` would silently replace a file of the same name; names are
    // unique per host, so this only guards against a foreign writer.
    if new_path.exists() {
        let _ = fs::remove_file(&tmp_path);
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", new_path.display()),
        ));
    }
    if let Err(e) = fs::rename(&tmp_path, &new_path) {
        let _ = fs::remove_file(&tmp_path);
        return Err(e);
    }
    sync_dir(&new)?;
    Ok(new_path)
}

/// Creates a new file in `tmp` with a fresh unique name; `create_new` makes
/// a name clash an error instead of an overwrite.
fn create_unique(tmp: &Path) -> io::Result<(String, File)> {
    let mut last = None;
    for _ in 0..NAME_ATTEMPTS {
        let name = unique_name();
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp.join(&name))
        {
            Ok(file) => return Ok((name, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no unique Maildir name")))
}

/// `{secs}.M{micros}P{pid}Q{counter}.{hostname}`, the modern Maildir naming
/// scheme: unique across processes (pid), within a process (counter) and
/// across hosts sharing the directory (hostname).
fn unique_name() -> String {
    // A clock before 1970 only makes names less pretty, not less unique.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.M{}P{}Q{}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        hostname(),
    )
}

/// This host's name, sanitised for a Maildir file name. Read once: it is in
/// every delivered file's name and should not change mid-run.
fn hostname() -> &'static str {
    static HOSTNAME: OnceLock<String> = OnceLock::new();
    HOSTNAME.get_or_init(|| {
        // lettre's `hostname` feature does not re-export its lookup, so ask
        // the kernel first (the live name), then the configured one.
        ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .filter_map(|p| fs::read_to_string(p).ok())
            .map(|s| sanitise_hostname(s.trim()))
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| "localhost".to_owned())
    })
}

/// Maildir convention: `/` becomes `\057` and `:` becomes `\072` (`:` starts
/// the info suffix, `/` would be a path separator). Anything else that is not
/// printable ASCII is dropped so the name stays portable.
fn sanitise_hostname(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '/' => out.push_str("\\057"),
            ':' => out.push_str("\\072"),
            c if c.is_ascii_graphic() => out.push(c),
            _ => {}
        }
    }
    out
}

/// Makes the rename into `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Directories cannot be opened as files here; the rename is as durable as
/// the platform makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::process::Command;

    fn files(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn delivers_one_complete_file_into_new() {
        let root = tempfile::tempdir().unwrap();
        let md = root.path().join("mail/alice");
        let msg = b"Subject: hi\r\n\r\nbody\r\n";
        let path = deliver(&md, msg).unwrap();
        assert_eq!(files(&md.join("new")), vec![path.clone()]);
        assert!(files(&md.join("tmp")).is_empty());
        assert!(files(&md.join("cur")).is_empty());
        assert_eq!(fs::read(&path).unwrap(), msg);
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(!name.contains(':') && !name.contains('/'));
        assert!(name.contains(".M") && name.contains('P') && name.contains('Q'));
    }

    #[test]
    fn names_are_unique() {
        let root = tempfile::tempdir().unwrap();
        let paths: HashSet<PathBuf> = (0..50)
            .map(|i| deliver(root.path(), format!("n: {i}\r\n\r\n").as_bytes()).unwrap())
            .collect();
        assert_eq!(paths.len(), 50);
        assert_eq!(files(&root.path().join("new")).len(), 50);
        assert!(files(&root.path().join("tmp")).is_empty());
    }

    #[test]
    fn unwritable_dir_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let blocker = root.path().join("file");
        fs::write(&blocker, b"x").unwrap();
        assert!(deliver(&blocker, b"x").is_err());
    }

    #[test]
    fn hostname_sanitised() {
        assert_eq!(sanitise_hostname("a/b:c d\n"), "a\\057b\\072cd");
        assert!(!hostname().is_empty());
        assert!(!hostname().contains(['/', ':']));
    }

    /// Python's `mailbox` module is an independent Maildir and MIME reader:
    /// it must find exactly one digest, decode its subject and read both
    /// parts. Skipped when python3 is not installed.
    #[test]
    fn python_mailbox_reads_a_digest() {
        use crate::notify::digest::{Digest, Envelope, Language, render, to_message};
        use chrono::TimeZone;

        let usable = Command::new("python3")
            .args(["-c", "import mailbox, email.policy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !usable {
            eprintln!("python3 with mailbox not available: skipped");
            return;
        }
        let at = chrono::Utc.with_ymd_and_hms(2024, 5, 7, 7, 0, 0).unwrap();
        let offer = crate::offer::Offer {
            id: "1".into(),
            title: "Développeur Rust — été".into(),
            company: Some("Société Générale".into()),
            location: None,
            url: Some("https://jobs.example.com/1".into()),
            published: None,
            first_seen: at,
            summary: None,
            remote: None,
            contract: None,
            sources: vec!["hn".into()],
            matches: vec![],
            tags: vec![],
            valid_through: None,
            salary: None,
        };
        let words = vec!["rust".to_owned()];
        let rendered = render(&Digest {
            profile: "alice",
            language: Language::Fr,
            entries: vec![crate::notify::digest::Entry {
                offer: &offer,
                score: 1.0,
                words: &words,
            }],
            failing: vec![],
            now: at.with_timezone(&chrono_tz::Europe::Paris),
            max_offers: 10,
        })
        .unwrap();
        let to = vec!["alice@example.com".to_owned()];
        let msg = to_message(
            &rendered,
            &Envelope {
                from: "veille <veille@localhost>",
                to: &to,
                list_id: "alice.veille.localhost",
                date: at,
            },
        )
        .unwrap();
        let root = tempfile::tempdir().unwrap();
        deliver(root.path(), &msg).unwrap();

        let script = r#"
import sys, mailbox, email, email.policy
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
keys = md.keys()
assert len(keys) == 1, keys
with md.get_file(keys[0]) as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
assert m.get_content_type() == "multipart/alternative", m.get_content_type()
parts = [p.get_content_type() for p in m.iter_parts()]
assert parts == ["text/plain", "text/html"], parts
text = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
assert "Société Générale" in text and "Société Générale" in html
sys.stdout.write(m["subject"] + "|" + m["list-id"])
"#;
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(root.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "[veille] 1 nouvelle offre pour alice|veille <alice.veille.localhost>"
        );
    }
}
