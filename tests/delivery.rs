//! Delivery through the real binary: one profile with an email, a Maildir, a
//! webhook and an Atom channel gets each right from one `poll` + `digest`;
//! the queue keeps what a failing channel could not take.

mod common;
#[path = "common/smtp.rs"]
mod smtp;

use std::net::TcpListener;

use common::*;
use hmac::Mac;

const SECRET: &str = "s3cret-for-tests";

fn watchlist(server: &Server, smtp_port: u16, hook: &str) -> String {
    format!(
        r#"[smtp]
server = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Veille <veille@example.org>"

[[board]]
name = "normandie"
feed = "{}"

[[profile]]
name = "alice"
query = "rust OR alternance OR stage"
[[profile.notify]]
email = ["alice@example.org"]
[[profile.notify]]
maildir = "Maildir"
[[profile.notify]]
webhook = "{}"
secret_env = "VEILLE_HOOK_SECRET"
[[profile.notify]]
atom = "alice.atom"
"#,
        server.url("/jobs.rss"),
        server.url(hook)
    )
}

fn status(sb: &Sandbox) -> serde_json::Value {
    serde_json::from_str(&stdout(&sb.run(&["status", "--json"]))).unwrap()
}

fn channel<'a>(s: &'a serde_json::Value, prefix: &str) -> &'a serde_json::Value {
    s["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"].as_str().unwrap().starts_with(prefix))
        .unwrap()
}

#[test]
fn every_channel_gets_its_delivery_and_smtp_down_keeps_the_queue() {
    let server = Server::start();
    server.fixture("/jobs.rss", "fr_latin1_jobs.rss", "application/rss+xml");
    server.route("/hook", Route::ok("ok", "text/plain"));
    // A port with nobody listening yet: SMTP is down at the first digest.
    let smtp_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sb = Sandbox::new(&watchlist(&server, smtp_port, "/hook"));
    let env = [("VEILLE_HOOK_SECRET", SECRET)];

    let poll = sb.run_env(&["poll", "--json"], &env);
    assert_eq!(code(&poll), 0, "{}", stderr(&poll));
    let matched: Vec<_> = json_lines(&poll)
        .into_iter()
        .filter(|o| o["matches"] == serde_json::json!(["alice"]))
        .collect();
    assert_eq!(matched.len(), 1);

    // The webhook went out with the poll: signed JSON in the contract's shape.
    let hooks: Vec<_> = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == "/hook")
        .cloned()
        .collect();
    assert_eq!(hooks.len(), 1);
    let req = &hooks[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let ts = req.header("x-veille-timestamp").unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&req.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        req.header("x-veille-signature"),
        Some(format!("sha256={expected}").as_str())
    );
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["profile"], "alice");
    assert_eq!(body["offers"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["offers"][0]["title"],
        "Développeur·se Rust en alternance - Rouen"
    );
    for key in [
        "id",
        "title",
        "company",
        "location",
        "url",
        "published",
        "first_seen",
        "summary",
        "remote",
        "contract",
        "sources",
        "matches",
    ] {
        assert!(body["offers"][0].get(key).is_some(), "{key}");
    }

    // The Atom file was written after the poll and parses back.
    let atom = std::fs::read(sb.path("alice.atom")).unwrap();
    let feed = feed_rs::parser::parse(&atom[..]).unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(
        feed.entries[0].title.as_ref().unwrap().content,
        "Développeur·se Rust en alternance - Rouen"
    );

    // SMTP down: digest fails (exit 1), the email stays queued, the Maildir is delivered.
    let digest = sb.run_env(&["digest"], &env);
    assert_eq!(code(&digest), 1, "{}", stdout(&digest));
    let s = status(&sb);
    assert_eq!(channel(&s, "email:")["queued"], 1);
    assert!(
        channel(&s, "email:")["last_error"]
            .as_str()
            .unwrap()
            .contains("SMTP"),
        "{s}"
    );
    assert_eq!(channel(&s, "maildir:")["queued"], 0);
    assert_eq!(channel(&s, "webhook:")["queued"], 0);
    assert_eq!(channel(&s, "atom:")["queued"], 0);
    assert_eq!(
        std::fs::read_dir(sb.path("Maildir/new")).unwrap().count(),
        1
    );

    // SMTP back: the digest arrives, exactly once.
    let messages = smtp::serve(TcpListener::bind(("127.0.0.1", smtp_port)).unwrap());
    let digest = sb.run_env(&["digest"], &env);
    assert_eq!(code(&digest), 0, "{}", stderr(&digest));
    assert_eq!(code(&sb.run_env(&["digest"], &env)), 0);
    let got = messages.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let mail = mailparse::parse_mail(&got[0]).unwrap();
    use mailparse::MailHeaderMap;
    assert_eq!(
        mail.headers.get_first_value("Subject").unwrap(),
        "[veille] 1 new offer for alice"
    );
    assert!(
        mail.headers
            .get_first_value("From")
            .unwrap()
            .contains("veille@example.org")
    );
    assert!(
        mail.headers
            .get_first_value("To")
            .unwrap()
            .contains("alice@example.org")
    );
    assert!(mail.headers.get_first_value("Message-ID").is_some());
    assert!(
        mail.headers
            .get_first_value("List-Id")
            .unwrap()
            .contains("alice.veille.localhost")
    );
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    assert!(
        mail.subparts[0]
            .get_body()
            .unwrap()
            .contains("Développeur·se Rust en alternance")
    );
    assert_eq!(channel(&status(&sb), "email:")["queued"], 0);
}

#[test]
fn a_webhook_500_is_retried_once_and_a_410_goes_to_the_failed_list() {
    let server = Server::start();
    server.fixture("/jobs.rss", "fr_latin1_jobs.rss", "application/rss+xml");
    server.route("/hook", Route::status(500));
    let body = format!(
        "[[board]]\nname = \"n\"\nfeed = \"{}\"\n[[profile]]\nname = \"p\"\nquery = \"rust\"\n[[profile.notify]]\nwebhook = \"{}\"\n",
        server.url("/jobs.rss"),
        server.url("/hook")
    );
    let sb = Sandbox::new(&body);
    // The poll succeeds even though the delivery failed: it stays queued.
    assert_eq!(code(&sb.run(&["poll"])), 0);
    let s = status(&sb);
    assert_eq!(channel(&s, "webhook:")["queued"], 1);
    assert!(
        channel(&s, "webhook:")["last_error"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{s}"
    );
    // The receiver is back: `digest` re-sends the same batch, once.
    server.route("/hook", Route::ok("ok", "text/plain"));
    assert_eq!(code(&sb.run(&["digest"])), 0);
    assert_eq!(code(&sb.run(&["digest"])), 0);
    let posts: Vec<_> = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == "/hook")
        .cloned()
        .collect();
    assert_eq!(posts.len(), 2, "one 500, then one 200");
    assert_eq!(
        posts[0].body, posts[1].body,
        "a retry re-sends the same batch"
    );
    assert_eq!(channel(&status(&sb), "webhook:")["queued"], 0);

    // A wrong URL (410 Gone) is given up on: the batch is on the failed list.
    let sb = Sandbox::new(&body.replace("/hook", "/gone"));
    server.route("/gone", Route::status(410));
    assert_eq!(code(&sb.run(&["poll"])), 0);
    let s = status(&sb);
    assert_eq!(channel(&s, "webhook:")["queued"], 0);
    assert_eq!(channel(&s, "webhook:")["failed"], 1);
    assert!(
        channel(&s, "webhook:")["last_error"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{s}"
    );
    // And not retried.
    assert_eq!(code(&sb.run(&["digest"])), 0);
    assert_eq!(
        server
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == "/gone")
            .count(),
        1
    );
}

#[test]
fn kill_9_between_the_servers_acceptance_and_the_mark_sends_at_most_one_duplicate() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = Server::start();
    server.fixture("/jobs.rss", "fr_latin1_jobs.rss", "application/rss+xml");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hang = Arc::new(AtomicBool::new(true));
    let messages = smtp::serve_with(listener, hang.clone());
    let sb = Sandbox::new(&format!(
        "[smtp]\nserver = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"veille@example.org\"\n[[board]]\nname = \"n\"\nfeed = \"{}\"\n[[profile]]\nname = \"p\"\n[[profile.notify]]\nemail = \"p@example.org\"\n",
        server.url("/jobs.rss")
    ));
    assert_eq!(code(&sb.run(&["poll"])), 0);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .arg("--config")
        .arg(sb.path("veille.toml"))
        .arg("digest")
        .current_dir(sb.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while messages.lock().unwrap().is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the digest never reached the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The server has the message but has not said 250: kill -9 now.
    child.kill().unwrap();
    child.wait().unwrap();
    hang.store(false, Ordering::SeqCst);
    let again = sb.run(&["digest"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let got = messages.lock().unwrap().len();
    assert_eq!(got, 2, "the digest is sent again after the crash, once");
    assert_eq!(code(&sb.run(&["digest"])), 0);
    assert_eq!(messages.lock().unwrap().len(), 2, "and never a third time");
    let s = status(&sb);
    assert_eq!(channel(&s, "email:")["queued"], 0);
}
