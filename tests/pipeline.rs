//! The whole pipeline through the real binary, against fixture feeds served
//! on 127.0.0.1.

mod common;

use common::*;

fn feeds(server: &Server) -> String {
    server.fixture(
        "/wwr.rss",
        "weworkremotely_programming.rss",
        "application/rss+xml",
    );
    server.fixture(
        "/pass.rss",
        "fr_pass_fonction_publique.rss",
        "application/rss+xml",
    );
    server.fixture(
        "/latin1.rss",
        "fr_latin1_jobs.rss",
        "application/rss+xml; charset=ISO-8859-1",
    );
    server.fixture("/utf16.atom", "utf16_jobs.atom", "application/atom+xml");
    server.fixture(
        "/relative.atom",
        "relative_links.atom",
        "application/atom+xml",
    );
    format!(
        r#"
[[board]]
name = "wwr"
feed = "{}"
[[board]]
name = "pass"
feed = "{}"
[[board]]
name = "normandie"
feed = "{}"
[[board]]
name = "remote"
feed = "{}"
[[board]]
name = "relative"
feed = "{}"

[[profile]]
name = "alice"
query = '(rust OR développeur OR alternance) -senior'
[[profile.notify]]
maildir = "Maildir"
"#,
        server.url("/wwr.rss"),
        server.url("/pass.rss"),
        server.url("/latin1.rss"),
        server.url("/utf16.atom"),
        server.url("/relative.atom"),
    )
}

fn by_title<'a>(offers: &'a [serde_json::Value], needle: &str) -> &'a serde_json::Value {
    offers
        .iter()
        .find(|o| o["title"].as_str().unwrap_or("").contains(needle))
        .unwrap_or_else(|| panic!("no offer titled like {needle:?} in {offers:#?}"))
}

#[test]
fn poll_extracts_offers_then_announces_nothing_twice() {
    let server = Server::start();
    let sb = Sandbox::new(&feeds(&server));
    let first = sb.run(&["poll", "--json"]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let offers = json_lines(&first);
    assert!(offers.len() >= 10, "{} offers", offers.len());

    // Every key of the contract's offer JSON is present.
    for o in &offers {
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
            assert!(o.get(key).is_some(), "missing {key} in {o}");
        }
    }

    // ISO-8859-1: accents decoded; tracking parameters dropped, the rest sorted.
    let latin = by_title(&offers, "Rust en alternance");
    assert_eq!(latin["title"], "Développeur·se Rust en alternance - Rouen");
    assert_eq!(latin["url"], "http://jobs.example.org/offres/42?a=1&b=2");
    assert_eq!(latin["sources"], serde_json::json!(["normandie"]));
    assert_eq!(latin["matches"], serde_json::json!(["alice"]));

    // UTF-16 with a BOM.
    let utf16 = by_title(&offers, "Ingénieur logiciel C++");
    assert_eq!(utf16["url"], "http://remote.example.org/jobs/cpp-1");

    // Relative links against xml:base, HTML title to plain text, fragment dropped.
    let rel = by_title(&offers, "Backend developer");
    assert_eq!(rel["title"], "Backend developer & SRE (Go, Rust)");
    assert_eq!(rel["url"], "http://127.0.0.1/careers/offers/backend-1");
    let summary = rel["summary"].as_str().unwrap();
    assert!(summary.contains("Join us in Nantes & remote."), "{summary}");
    assert!(!summary.contains("alert"), "{summary}");
    // Excluded by -senior.
    let senior = by_title(&offers, "Senior Rust engineer");
    assert_eq!(senior["matches"], serde_json::json!([]));

    // The PASS feed's <title> holds an <a> element: plain text only.
    let pass = by_title(&offers, "Contrat d'Apprentissage - financements");
    assert!(!pass["title"].as_str().unwrap().contains('<'));

    // Second poll: every feed answers 304, nothing new.
    let second = sb.run(&["poll", "--json"]);
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    assert_eq!(json_lines(&second).len(), 0, "{}", stdout(&second));
    for path in [
        "/wwr.rss",
        "/pass.rss",
        "/latin1.rss",
        "/utf16.atom",
        "/relative.atom",
    ] {
        assert_eq!(server.hits(path), (2, 1), "{path}");
    }

    // `offers` lists what is stored, newest first; `--profile` narrows to matches.
    let all = json_lines(&sb.run(&["offers", "--json"]));
    assert_eq!(all.len(), offers.len());
    let alice = json_lines(&sb.run(&["offers", "--profile", "alice", "--json"]));
    assert!(!alice.is_empty() && alice.len() < all.len());
    assert!(
        alice
            .iter()
            .all(|o| o["matches"] == serde_json::json!(["alice"]))
    );
}

#[test]
fn changed_feed_body_without_validators_is_deduplicated() {
    let server = Server::start();
    let body = std::fs::read(fixture("fr_latin1_jobs.rss")).unwrap();
    server.route("/a.rss", Route::ok(body.clone(), "application/rss+xml"));
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"a\"\nfeed = \"{}\"\n",
        server.url("/a.rss")
    ));
    assert_eq!(json_lines(&sb.run(&["poll", "--json"])).len(), 2);
    // No ETag: the server sends the full body again; dedupe still holds.
    assert_eq!(json_lines(&sb.run(&["poll", "--json"])).len(), 0);
    assert_eq!(server.hits("/a.rss"), (2, 0));
}

#[test]
fn one_offer_for_the_same_url_on_two_sources() {
    let server = Server::start();
    let body = std::fs::read(fixture("fr_latin1_jobs.rss")).unwrap();
    server.route("/one.rss", Route::ok(body.clone(), "application/rss+xml"));
    server.route("/two.rss", Route::ok(body, "application/rss+xml"));
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"one\"\nfeed = \"{}\"\n[[board]]\nname = \"two\"\nfeed = \"{}\"\n",
        server.url("/one.rss"),
        server.url("/two.rss")
    ));
    let out = sb.run(&["poll", "--json"]);
    let offers = json_lines(&out);
    assert_eq!(offers.len(), 2, "{}", stdout(&out));
    for o in &offers {
        let mut sources: Vec<String> = serde_json::from_value(o["sources"].clone()).unwrap();
        sources.sort();
        assert_eq!(sources, ["one", "two"]);
    }
}

#[test]
fn a_failing_source_fails_alone_and_shows_in_status() {
    let server = Server::start();
    server.fixture("/good.rss", "fr_latin1_jobs.rss", "application/rss+xml");
    server.route("/broken.rss", Route::status(500));
    server.route(
        "/html.rss",
        Route::ok(
            "<!doctype html><html><body><p>Hello</p></body></html>",
            "text/html",
        ),
    );
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"good\"\nfeed = \"{}\"\n[[board]]\nname = \"broken\"\nfeed = \"{}\"\n[[board]]\nname = \"html\"\nfeed = \"{}\"\n",
        server.url("/good.rss"),
        server.url("/broken.rss"),
        server.url("/html.rss")
    ));
    let out = sb.run(&["poll", "--json"]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 2);
    let err = stderr(&out);
    assert!(err.contains("broken") && err.contains("HTTP 500"), "{err}");

    let status = sb.run(&["status", "--json"]);
    assert_eq!(code(&status), 0);
    let s: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    let src = |n: &str| {
        s["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(src("good")["last_error"], serde_json::Value::Null);
    assert_eq!(src("good")["offers"], 2);
    assert_eq!(src("broken")["consecutive_failures"], 1);
    assert_eq!(
        src("broken")["last_error"],
        "HTTP 500 Internal Server Error"
    );
    let html_err = src("html")["last_error"].as_str().unwrap().to_string();
    assert!(html_err.contains("HTML"), "{html_err}");
    assert!(!html_err.contains('\n'));
    for key in [
        "name",
        "kind",
        "url",
        "last_poll",
        "last_success",
        "last_error",
        "consecutive_failures",
        "offers",
        "next_poll",
    ] {
        assert!(src("broken").get(key).is_some(), "{key}");
    }
}

#[test]
fn digest_lands_in_the_maildir_once() {
    let server = Server::start();
    let sb = Sandbox::new(&feeds(&server));
    let poll = sb.run(&["poll"]);
    assert_eq!(code(&poll), 0, "{}", stderr(&poll));

    let dry = sb.run(&["digest", "--dry-run"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("Subject: [veille] "),
        "{}",
        stdout(&dry)
    );
    assert!(
        !sb.path("Maildir/new").exists()
            || std::fs::read_dir(sb.path("Maildir/new")).unwrap().count() == 0
    );

    let out = sb.run(&["digest"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let files: Vec<_> = std::fs::read_dir(sb.path("Maildir/new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(
        std::fs::read_dir(sb.path("Maildir/tmp")).unwrap().count(),
        0
    );
    let raw = std::fs::read(&files[0]).unwrap();
    let mail = mailparse::parse_mail(&raw).unwrap();
    let subject = mail
        .headers
        .iter()
        .find(|h| h.get_key() == "Subject")
        .unwrap()
        .get_value();
    let matched = json_lines(&sb.run(&["offers", "--profile", "alice", "--json"]));
    assert_eq!(
        subject,
        format!("[veille] {} new offers for alice", matched.len())
    );
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    assert_eq!(mail.subparts.len(), 2);
    let text = mail.subparts[0].get_body().unwrap();
    let html = mail.subparts[1].get_body().unwrap();
    assert_eq!(mail.subparts[0].ctype.mimetype, "text/plain");
    assert_eq!(mail.subparts[1].ctype.mimetype, "text/html");
    assert!(text.contains("Développeur·se Rust en alternance"), "{text}");
    let doc = scraper::Html::parse_document(&html);
    let hrefs: Vec<String> = doc
        .select(&scraper::Selector::parse("a[href]").unwrap())
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect();
    assert!(
        hrefs
            .iter()
            .any(|h| h == "http://jobs.example.org/offres/42?a=1&b=2"),
        "{hrefs:?}"
    );
    assert!(
        hrefs
            .iter()
            .all(|h| h.starts_with("http://") || h.starts_with("https://")),
        "{hrefs:?}"
    );
    assert_eq!(
        doc.select(&scraper::Selector::parse("script").unwrap())
            .count(),
        0,
        "{html}"
    );

    // The queue is empty now: no second digest, no empty digest.
    let again = sb.run(&["digest"]);
    assert_eq!(code(&again), 0);
    assert!(
        stdout(&again).contains("nothing to send"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        std::fs::read_dir(sb.path("Maildir/new")).unwrap().count(),
        1
    );
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&sb.run(&["status", "--json"]))).unwrap();
    assert_eq!(status["channels"][0]["queued"], 0);
    assert_eq!(status["channels"][0]["profile"], "alice");
    assert!(status["channels"][0]["last_delivery"].is_string());
}

#[test]
fn a_new_profile_is_backfilled_once() {
    let server = Server::start();
    server.fixture("/a.rss", "fr_latin1_jobs.rss", "application/rss+xml");
    let board = format!(
        "[[board]]\nname = \"a\"\nfeed = \"{}\"\n",
        server.url("/a.rss")
    );
    let sb = Sandbox::new(&board);
    assert_eq!(code(&sb.run(&["poll"])), 0);
    let with_profiles = format!(
        "[daemon]\nstate_dir = \"state\"\nper_host_delay = \"0s\"\n{board}\n[[profile]]\nname = \"late\"\nquery = \"rust\"\nbackfill = \"1d\"\n[[profile.notify]]\nmaildir = \"Maildir\"\n[[profile]]\nname = \"nobackfill\"\nquery = \"rust\"\n"
    );
    sb.write_config(&with_profiles);
    assert_eq!(code(&sb.run(&["poll"])), 0);
    let late = json_lines(&sb.run(&["offers", "--profile", "late", "--json"]));
    assert_eq!(late.len(), 1);
    assert_eq!(
        json_lines(&sb.run(&["offers", "--profile", "nobackfill", "--json"])).len(),
        0
    );
    // Once only: a third poll does not queue it again.
    assert_eq!(code(&sb.run(&["poll"])), 0);
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&sb.run(&["status", "--json"]))).unwrap();
    assert_eq!(status["channels"][0]["queued"], 1);
}

#[test]
fn unknown_names_are_usage_errors() {
    let sb = Sandbox::new("[[profile]]\nname = \"p\"\n");
    assert_eq!(code(&sb.run(&["poll", "--source", "nope"])), 2);
    assert_eq!(code(&sb.run(&["test-source", "nope"])), 2);
    assert_eq!(code(&sb.run(&["digest", "--profile", "nope"])), 2);
    assert_eq!(code(&sb.run(&["offers", "--profile", "nope"])), 2);
    assert_eq!(code(&sb.run(&["frobnicate"])), 2);
}

#[test]
fn test_source_prints_and_stores_nothing() {
    let server = Server::start();
    server.fixture(
        "/a.rss",
        "weworkremotely_programming.rss",
        "application/rss+xml",
    );
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"a\"\nfeed = \"{}\"\n",
        server.url("/a.rss")
    ));
    let out = sb.run(&["test-source", "a", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 2);
    let human = sb.run(&["test-source", "a"]);
    assert!(
        stdout(&human).contains("a: 2 offers from"),
        "{}",
        stdout(&human)
    );
    assert!(
        !sb.path("state").exists(),
        "test-source must not create the store"
    );
}

#[test]
fn a_page_that_keeps_yielding_nothing_is_flagged_and_retry_after_is_honoured() {
    let server = Server::start();
    let empty = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><link>https://x.example/</link><description>x</description></channel></rss>"#;
    server.route("/empty.rss", Route::ok(empty, "application/rss+xml"));
    server.route("/busy.rss", Route::status(429).header("Retry-After: 7200"));
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"empty\"\nfeed = \"{}\"\n[[board]]\nname = \"busy\"\nfeed = \"{}\"\nevery = \"15m\"\n",
        server.url("/empty.rss"),
        server.url("/busy.rss")
    ));
    for i in 1..=5 {
        sb.run(&["poll", "--source", "empty"]);
        let s: serde_json::Value =
            serde_json::from_str(&stdout(&sb.run(&["status", "--json"]))).unwrap();
        assert_eq!(s["sources"][0]["empty_fetches"], i);
        assert_eq!(s["sources"][0]["suspect"], i >= 5);
    }
    let human = stdout(&sb.run(&["status"]));
    assert!(human.contains("no offers in the last 5 fetches"), "{human}");

    assert_eq!(code(&sb.run(&["poll", "--source", "busy"])), 4);
    let s: serde_json::Value =
        serde_json::from_str(&stdout(&sb.run(&["status", "--json"]))).unwrap();
    let busy = &s["sources"][1];
    assert_eq!(busy["last_error"], "HTTP 429 Too Many Requests");
    let last: chrono::DateTime<chrono::Utc> = busy["last_poll"].as_str().unwrap().parse().unwrap();
    let next: chrono::DateTime<chrono::Utc> = busy["next_poll"].as_str().unwrap().parse().unwrap();
    assert!(next - last >= chrono::Duration::seconds(7200), "{busy}");
}
