//! Email delivery: hands one finished RFC 5322 message to an SMTP server.
//!
//! Owns: the SMTP password lookup (environment, file, systemd credential),
//! the connection security (STARTTLS required, implicit TLS, or none), the
//! timeouts, and turning SMTP failures into one-line errors that say whether
//! a retry can help ([`EmailError::is_permanent`]).
//! Does not own: building the message (see `digest::to_message`, whose bytes
//! are sent unchanged), queues, retries or backoff.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Longest wait for any one step of the SMTP dialogue (connect, a reply).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Longest a whole delivery may take. Each step has [`TIMEOUT`]; this cap
/// keeps a server that answers slowly but steadily from holding a
/// delivery (and the queue behind it) forever.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The systemd credential read when neither `password_env` nor
/// `password_file` gives a password.
pub const CREDENTIAL_NAME: &str = "smtp-password";

/// How many characters of a server's reply an error keeps.
const REPLY_CHARS: usize = 200;

/// Reply codes of a failed `AUTH`: a wrong or missing password is a
/// configuration problem to fix, not a message to drop.
const AUTH_CODES: [u16; 4] = [530, 534, 535, 538];

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS; a server that does not offer
    /// it is an error (no silent fallback to plain text).
    StartTls,
    /// TLS from the first byte ("implicit TLS", usually port 465).
    Tls,
    /// No encryption at all (a local relay, tests).
    None,
}

/// Where and how to send mail.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Host name (also the name the TLS certificate must match).
    pub server: String,
    /// TCP port.
    pub port: u16,
    /// Connection security.
    pub security: Security,
    /// Login; authentication happens only when a password is known too.
    pub username: Option<String>,
    /// Password, from [`resolve_password`].
    pub password: Option<Secret>,
    /// `From` mailbox, e.g. `Veille <me@example.org>`; its address is the
    /// envelope sender.
    pub from: String,
}

/// A secret that never prints (Debug shows "***").
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why a message could not be handed over, or the password not found.
/// Every message is one line and never contains the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// A password source was configured but gave nothing.
    #[error("SMTP password not found: {0}")]
    PasswordMissing(String),
    /// A password file exists but could not be read.
    #[error("SMTP password: cannot read {path}: {reason}")]
    PasswordUnreadable {
        /// The file.
        path: String,
        /// Why (an I/O error, or "not UTF-8"); never its content.
        reason: String,
    },
    /// A `From` or `To` value is not a mail address.
    #[error("SMTP: invalid address {address:?}: {reason}")]
    Address {
        /// The value as given.
        address: String,
        /// Why it was rejected.
        reason: String,
    },
    /// No recipient was given.
    #[error("SMTP: no recipient")]
    NoRecipient,
    /// The server could not be reached or the session broke down before a
    /// reply code (refused, reset, TLS failure, STARTTLS not offered…).
    #[error("SMTP: {reason} at {server}:{port}")]
    Connection {
        /// The server's host name.
        server: String,
        /// Its port.
        port: u16,
        /// What went wrong, one line.
        reason: String,
    },
    /// The server stopped answering.
    #[error("SMTP: timed out after {}s at {server}:{port}", after.as_secs())]
    Timeout {
        /// The server's host name.
        server: String,
        /// Its port.
        port: u16,
        /// How long we waited.
        after: Duration,
    },
    /// The server answered with a 4xx or 5xx reply.
    #[error("SMTP {code} {message}")]
    Rejected {
        /// The reply code, e.g. 550.
        code: u16,
        /// The reply text, one line, capped.
        message: String,
    },
}

impl EmailError {
    /// True when the server rejected the recipient or the message for good
    /// (a 5xx reply other than an authentication failure): sending the same
    /// message again cannot succeed. Everything else may succeed later.
    pub fn is_permanent(&self) -> bool {
        match self {
            EmailError::Rejected { code, .. } => {
                (500..600).contains(code) && !AUTH_CODES.contains(code)
            }
            _ => false,
        }
    }
}

/// The SMTP password: password_env's variable, else password_file's content
/// (trimmed of a trailing newline), else $CREDENTIALS_DIRECTORY/smtp-password.
/// Errors name where it looked, never the value.
///
/// `Ok(None)` when nothing is configured and no systemd credential exists:
/// the server is then used without authentication. When `password_env` or
/// `password_file` is configured, finding nothing anywhere is an error.
pub fn resolve_password(
    password_env: Option<&str>,
    password_file: Option<&Path>,
) -> Result<Option<Secret>, EmailError> {
    resolve_with(password_env, password_file, |name| std::env::var_os(name))
}

/// [`resolve_password`] with the environment as a parameter, so tests need
/// not change the process environment (which edition 2024 makes `unsafe`).
fn resolve_with(
    password_env: Option<&str>,
    password_file: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Option<Secret>, EmailError> {
    let mut looked = Vec::new();
    if let Some(name) = password_env {
        match env(name) {
            Some(value) if !value.is_empty() => {
                return match value.into_string() {
                    Ok(value) => Ok(Some(Secret(value))),
                    Err(_) => Err(EmailError::PasswordUnreadable {
                        path: format!("environment variable {name}"),
                        reason: "not UTF-8".to_owned(),
                    }),
                };
            }
            Some(_) => looked.push(format!("environment variable {name} (empty)")),
            None => looked.push(format!("environment variable {name} (not set)")),
        }
    }
    if let Some(path) = password_file {
        match read_secret(path)? {
            Some(secret) => return Ok(Some(secret)),
            None => looked.push(format!("file {} (missing or empty)", path.display())),
        }
    }
    match env("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) {
        Some(dir) => {
            let path = PathBuf::from(dir).join(CREDENTIAL_NAME);
            if let Some(secret) = read_secret(&path)? {
                return Ok(Some(secret));
            }
            looked.push(format!("credential {} (missing or empty)", path.display()));
        }
        None => looked.push(format!(
            "systemd credential {CREDENTIAL_NAME} ($CREDENTIALS_DIRECTORY not set)"
        )),
    }
    if password_env.is_none() && password_file.is_none() {
        // Nothing asked for a password: an unauthenticated relay.
        return Ok(None);
    }
    Err(EmailError::PasswordMissing(format!(
        "looked at {}",
        looked.join(", ")
    )))
}

/// A password file's content without its trailing newline; `None` when the
/// file does not exist or holds nothing.
fn read_secret(path: &Path) -> Result<Option<Secret>, EmailError> {
    let unreadable = |reason: String| EmailError::PasswordUnreadable {
        path: path.display().to_string(),
        reason,
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        // `io::Error`'s text is about the file, never its content.
        Err(e) => return Err(unreadable(e.to_string())),
    };
    let mut text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8".to_owned()))?;
    // Editors and `echo` add a final newline that is not part of the
    // password; other trailing whitespace might be, so it is kept.
    while text.ends_with(['\n', '\r']) {
        text.pop();
    }
    Ok((!text.is_empty()).then_some(Secret(text)))
}

/// Sends `message` (RFC 5322 bytes, sent unchanged) to `to` through `smtp`.
/// The envelope sender is the address part of `smtp.from`; each `to` entry
/// may be a bare address or a mailbox (`Name <addr>`).
///
/// Returns once the server accepted the message (250 after DATA).
pub async fn send(smtp: &Smtp, to: &[String], message: &[u8]) -> Result<(), EmailError> {
    let from = address_of(&smtp.from)?;
    if to.is_empty() {
        return Err(EmailError::NoRecipient);
    }
    let recipients = to
        .iter()
        .map(|t| address_of(t))
        .collect::<Result<Vec<_>, _>>()?;
    let envelope = Envelope::new(Some(from), recipients).map_err(|_| EmailError::NoRecipient)?;
    let transport = transport(smtp)?;
    match tokio::time::timeout(DEADLINE, transport.send_raw(&envelope, message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(smtp_error(smtp, &e)),
        Err(_) => Err(EmailError::Timeout {
            server: smtp.server.clone(),
            port: smtp.port,
            after: DEADLINE,
        }),
    }
}

/// A transport for one delivery. No connection pool: digests go out a few
/// times a day, and a fresh connection per delivery has no stale state.
fn transport(smtp: &Smtp) -> Result<AsyncSmtpTransport<Tokio1Executor>, EmailError> {
    type Transport = AsyncSmtpTransport<Tokio1Executor>;
    let builder = match smtp.security {
        // `starttls_relay` uses `Tls::Required`: a server that does not
        // offer STARTTLS fails the delivery instead of getting the
        // password and the message in plain text.
        Security::StartTls => Transport::starttls_relay(&smtp.server),
        Security::Tls => Transport::relay(&smtp.server),
        Security::None => Ok(Transport::builder_dangerous(&smtp.server)),
    }
    .map_err(|e| smtp_error(smtp, &e))?;
    let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
    }
    Ok(builder.build())
}

/// The address part of a mailbox (`Name <a@b>` or `a@b`).
fn address_of(mailbox: &str) -> Result<Address, EmailError> {
    mailbox
        .parse::<Mailbox>()
        .map(|m| m.email)
        .map_err(|e| EmailError::Address {
            address: mailbox.to_owned(),
            reason: e.to_string(),
        })
}

/// Classifies a lettre error: a reply code, a timeout, or a connection
/// problem with the deepest cause as its reason.
fn smtp_error(smtp: &Smtp, e: &lettre::transport::smtp::Error) -> EmailError {
    let server = smtp.server.clone();
    let port = smtp.port;
    if let Some(code) = e.status() {
        let message = std::error::Error::source(e)
            .map(|s| one_line(&s.to_string(), REPLY_CHARS))
            .unwrap_or_default();
        return EmailError::Rejected {
            code: u16::from(code),
            message,
        };
    }
    if e.is_timeout() {
        return EmailError::Timeout {
            server,
            port,
            after: TIMEOUT,
        };
    }
    let reason = match io_kind(e) {
        Some(io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
        Some(io::ErrorKind::ConnectionReset) => "connection reset".to_owned(),
        Some(io::ErrorKind::UnexpectedEof) => "connection closed by the server".to_owned(),
        _ => {
            let chain = one_line(&super::error_chain(e), REPLY_CHARS);
            if e.is_tls() {
                format!("TLS failed: {chain}")
            } else {
                chain
            }
        }
    };
    EmailError::Connection {
        server,
        port,
        reason,
    }
}

/// The kind of the first I/O error in `e`'s causes.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<io::ErrorKind> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        cause = c.source();
    }
    None
}

/// Server or library text as one line of at most `max` characters: an error
/// message must not smuggle line breaks into logs or `status`.
fn one_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    for word in s.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    match out.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::digest::{Envelope as MailEnvelope, Rendered, to_message};
    use chrono::{TimeZone, Utc};
    use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder, response};
    use mailparse::{MailHeaderMap, ParsedMail};
    use std::io::{BufRead, BufReader};
    use std::net::{IpAddr, TcpListener};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;

    /// One message as the test server received it.
    #[derive(Debug, Clone, Default)]
    struct Received {
        from: String,
        to: Vec<String>,
        data: Vec<u8>,
    }

    /// What the test server saw, shared with the test.
    #[derive(Debug, Default)]
    struct Seen {
        mail: Vec<Received>,
        logins: Vec<(String, String)>,
    }

    /// The server's behaviour, handed to the mailin state machine.
    #[derive(Clone)]
    struct Recorder {
        seen: Arc<Mutex<Seen>>,
        reject_rcpt: bool,
        current: Received,
    }

    impl Handler for Recorder {
        fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
            self.current = Received {
                from: from.to_owned(),
                ..Received::default()
            };
            response::OK
        }

        fn rcpt(&mut self, to: &str) -> Response {
            if self.reject_rcpt {
                return response::NO_MAILBOX;
            }
            self.current.to.push(to.to_owned());
            response::OK
        }

        fn data(&mut self, buf: &[u8]) -> io::Result<()> {
            self.current.data.extend_from_slice(buf);
            Ok(())
        }

        fn data_end(&mut self) -> Response {
            if let Ok(mut seen) = self.seen.lock() {
                seen.mail.push(std::mem::take(&mut self.current));
            }
            response::OK
        }

        fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
            if let Ok(mut seen) = self.seen.lock() {
                seen.logins.push((user.to_owned(), password.to_owned()));
            }
            response::AUTH_OK
        }
    }

    /// A real SMTP server (mailin's protocol state machine over a TCP
    /// socket on 127.0.0.1) that serves `connections` sessions, then stops.
    struct TestServer {
        port: u16,
        seen: Arc<Mutex<Seen>>,
        thread: JoinHandle<()>,
    }

    fn server(connections: usize, reject_rcpt: bool, auth: bool) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let handler = Recorder {
            seen: Arc::clone(&seen),
            reject_rcpt,
            current: Received::default(),
        };
        let mut builder = SessionBuilder::new("smtp.test");
        if auth {
            builder.enable_auth(AuthMechanism::Plain);
            builder.insecure_enable_plaintext_auth();
        }
        let thread = std::thread::spawn(move || {
            for _ in 0..connections {
                let Ok((stream, peer)) = listener.accept() else {
                    return;
                };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(read_half) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(read_half);
                let mut writer = stream;
                let mut session = builder.build(peer.ip(), handler.clone());
                if session.greeting().write_to(&mut writer).is_err() {
                    continue;
                }
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let res = session.process(&line);
                    match res.action {
                        Action::NoReply => {}
                        Action::Reply => {
                            if res.write_to(&mut writer).is_err() {
                                break;
                            }
                        }
                        Action::Close | Action::UpgradeTls => {
                            let _ = res.write_to(&mut writer);
                            break;
                        }
                    }
                }
            }
        });
        TestServer { port, seen, thread }
    }

    fn smtp(port: u16, security: Security) -> Smtp {
        Smtp {
            server: "127.0.0.1".to_owned(),
            port,
            security,
            username: None,
            password: None,
            from: "Veille <veille@example.org>".to_owned(),
        }
    }

    fn digest_message(to: &[String]) -> Vec<u8> {
        let rendered = Rendered {
            subject: "[veille] 2 new offers for alice".to_owned(),
            text: "Rust intern — Acme\nhttps://jobs.example.com/1\n".to_owned(),
            html: "<p><a href=\"https://jobs.example.com/1\">Rust intern</a> — Acme</p>\n"
                .to_owned(),
        };
        let envelope = MailEnvelope {
            from: "Veille <veille@example.org>",
            to,
            list_id: "alice.veille.localhost",
            date: Utc.with_ymd_and_hms(2024, 5, 7, 6, 0, 0).unwrap(),
        };
        to_message(&rendered, &envelope).unwrap()
    }

    /// A port nothing listens on: bound, then released.
    fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    fn body_of(part: &ParsedMail, mime: &str) -> String {
        part.subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().unwrap())
            .unwrap_or_else(|| panic!("no {mime} part"))
    }

    #[tokio::test]
    async fn sends_digest_message_to_real_smtp_server() {
        let srv = server(1, false, false);
        let to = vec![
            "alice@example.org".to_owned(),
            "Bob <bob@example.org>".to_owned(),
        ];
        let message = digest_message(&to);
        send(&smtp(srv.port, Security::None), &to, &message)
            .await
            .unwrap();
        srv.thread.join().unwrap();

        let seen = srv.seen.lock().unwrap();
        assert_eq!(seen.mail.len(), 1);
        let got = &seen.mail[0];
        assert_eq!(got.from, "veille@example.org");
        assert_eq!(got.to, ["alice@example.org", "bob@example.org"]);
        let parsed = mailparse::parse_mail(&got.data).unwrap();
        let headers = parsed.get_headers();
        assert_eq!(
            headers.get_first_value("From").unwrap(),
            "Veille <veille@example.org>"
        );
        let to_header = headers.get_first_value("To").unwrap();
        assert!(to_header.contains("alice@example.org"), "{to_header}");
        assert!(to_header.contains("bob@example.org"), "{to_header}");
        assert_eq!(
            headers.get_first_value("Subject").unwrap(),
            "[veille] 2 new offers for alice"
        );
        assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
        let text = body_of(&parsed, "text/plain");
        assert!(text.contains("Rust intern — Acme"), "{text}");
        let html = body_of(&parsed, "text/html");
        assert!(
            html.contains("<a href=\"https://jobs.example.com/1\">Rust intern</a>"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn authenticates_with_resolved_password() {
        let srv = server(1, false, true);
        let mut config = smtp(srv.port, Security::None);
        config.username = Some("me@example.org".to_owned());
        config.password = Some(Secret::new("hunter2"));
        let to = vec!["alice@example.org".to_owned()];
        send(&config, &to, &digest_message(&to)).await.unwrap();
        srv.thread.join().unwrap();
        let seen = srv.seen.lock().unwrap();
        assert_eq!(
            seen.logins,
            [("me@example.org".to_owned(), "hunter2".to_owned())]
        );
        assert_eq!(seen.mail.len(), 1);
    }

    #[tokio::test]
    async fn rcpt_550_is_permanent() {
        let srv = server(1, true, false);
        let to = vec!["nobody@example.org".to_owned()];
        let err = send(&smtp(srv.port, Security::None), &to, &digest_message(&to))
            .await
            .unwrap_err();
        srv.thread.join().unwrap();
        assert!(err.is_permanent(), "{err}");
        assert_eq!(err.to_string(), "SMTP 550 Mailbox unavailable");
        assert!(srv.seen.lock().unwrap().mail.is_empty());
    }

    #[tokio::test]
    async fn wrong_port_is_a_retry() {
        let port = closed_port();
        let to = vec!["alice@example.org".to_owned()];
        let err = send(&smtp(port, Security::None), &to, &digest_message(&to))
            .await
            .unwrap_err();
        assert!(!err.is_permanent(), "{err}");
        assert_eq!(
            err.to_string(),
            format!("SMTP: connection refused at 127.0.0.1:{port}")
        );
    }

    #[tokio::test]
    async fn starttls_is_required_not_opportunistic() {
        // The test server offers no STARTTLS: the message must not go out
        // in plain text.
        let srv = server(1, false, false);
        let to = vec!["alice@example.org".to_owned()];
        let err = send(
            &smtp(srv.port, Security::StartTls),
            &to,
            &digest_message(&to),
        )
        .await
        .unwrap_err();
        srv.thread.join().unwrap();
        assert!(!err.is_permanent(), "{err}");
        assert!(matches!(err, EmailError::Connection { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "SMTP: internal client error: STARTTLS is not supported on this server \
                 at 127.0.0.1:{}",
                srv.port
            )
        );
        assert!(srv.seen.lock().unwrap().mail.is_empty());
    }

    #[tokio::test]
    async fn implicit_tls_against_plain_server_fails_cleanly() {
        let srv = server(1, false, false);
        let to = vec!["alice@example.org".to_owned()];
        let err = send(&smtp(srv.port, Security::Tls), &to, &digest_message(&to))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(!err.is_permanent(), "{text}");
        assert!(text.starts_with("SMTP: Connection error: "), "{text}");
        assert!(
            text.ends_with(&format!(" at 127.0.0.1:{}", srv.port)),
            "{text}"
        );
        assert!(
            !text.contains("Connection error: Connection error"),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
        drop(srv);
    }

    #[test]
    fn every_security_builds_a_transport() {
        for security in [Security::StartTls, Security::Tls, Security::None] {
            let mut config = smtp(587, security);
            config.server = "smtp.example.org".to_owned();
            config.username = Some("me".to_owned());
            config.password = Some(Secret::new("pw"));
            assert!(transport(&config).is_ok(), "{security:?}");
        }
    }

    #[tokio::test]
    async fn bad_addresses_and_no_recipient() {
        let config = smtp(closed_port(), Security::None);
        let err = send(&config, &[], b"x").await.unwrap_err();
        assert!(matches!(err, EmailError::NoRecipient));
        let err = send(&config, &["not an address\r\nRCPT".to_owned()], b"x")
            .await
            .unwrap_err();
        assert!(matches!(err, EmailError::Address { .. }), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn permanence_by_reply_code() {
        let rejected = |code| EmailError::Rejected {
            code,
            message: String::new(),
        };
        assert!(rejected(550).is_permanent());
        assert!(rejected(554).is_permanent());
        assert!(
            !rejected(535).is_permanent(),
            "auth failure is a config fix"
        );
        assert!(!rejected(450).is_permanent());
        assert!(!rejected(421).is_permanent());
    }

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    #[test]
    fn password_from_env() {
        let env = |name: &str| (name == "VEILLE_PW").then(|| OsString::from("s3cret"));
        let secret = resolve_with(Some("VEILLE_PW"), None, env).unwrap().unwrap();
        assert_eq!(secret.expose(), "s3cret");
        assert_eq!(format!("{secret:?}"), "***");
    }

    #[test]
    fn password_from_file_trims_newline_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret \n").unwrap();
        // The variable is unset, so the file is next.
        let secret = resolve_with(Some("UNSET"), Some(&file), no_env)
            .unwrap()
            .unwrap();
        assert_eq!(secret.expose(), "s3cret ");
        // Through the public function, with a variable no one sets.
        let secret = resolve_password(Some("VEILLE_TEST_SURELY_UNSET_4242"), Some(&file))
            .unwrap()
            .unwrap();
        assert_eq!(secret.expose(), "s3cret ");
    }

    #[test]
    fn password_from_credentials_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CREDENTIAL_NAME), "cred\r\n").unwrap();
        let path = dir.path().as_os_str().to_owned();
        let env = move |name: &str| (name == "CREDENTIALS_DIRECTORY").then(|| path.clone());
        let secret = resolve_with(None, None, &env).unwrap().unwrap();
        assert_eq!(secret.expose(), "cred");
    }

    #[test]
    fn no_password_configured_is_none() {
        assert!(resolve_with(None, None, no_env).unwrap().is_none());
    }

    #[test]
    fn missing_password_names_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("absent");
        let err = resolve_with(Some("VEILLE_PW"), Some(&file), no_env).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("VEILLE_PW"), "{text}");
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains("CREDENTIALS_DIRECTORY"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn errors_never_contain_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, b"hunter2\xff\n").unwrap();
        let err = resolve_with(None, Some(&file), no_env).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("not UTF-8"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");

        let env = |_: &str| Some(OsString::from("hunter2"));
        let config = Smtp {
            password: resolve_with(Some("PW"), None, env).unwrap(),
            ..smtp(25, Security::None)
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
