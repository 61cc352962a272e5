//! Every source kind through the real binary, against fixtures served on
//! 127.0.0.1: ATS APIs (endpoint URLs in place of board tokens), pages with
//! selectors and JSON-LD, Mastodon, robots.txt, and the cross-source merge.

mod common;

use common::*;

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

#[test]
fn ats_sources_yield_offers_with_their_company() {
    let server = Server::start();
    server.route(
        "/gh",
        Route::ok(
            fixture_bytes("ats/greenhouse/hunt_vercel_board_jobs_content.json"),
            "application/json",
        ),
    );
    server.route(
        "/lever",
        Route::ok(
            fixture_bytes("ats/lever/synthetic_postings.json"),
            "application/json",
        ),
    );
    server.route(
        "/ashby",
        Route::ok(
            fixture_bytes("ats/ashby/synthetic_job_board.json"),
            "application/json",
        ),
    );
    server.route(
        "/workable",
        Route::ok(
            fixture_bytes("ats/workable/synthetic_widget_details.json"),
            "application/json",
        ),
    );
    server.route(
        "/recruitee",
        Route::ok(
            fixture_bytes("ats/recruitee/hunt_channable_offers.json"),
            "application/json",
        ),
    );
    server.route(
        "/personio",
        Route::ok(
            fixture_bytes("ats/personio/synthetic_positions.xml"),
            "text/xml",
        ),
    );
    server.route(
        "/sr?limit=2&offset=0",
        Route::ok(
            fixture_bytes("ats/smartrecruiters/synthetic_page1.json"),
            "application/json",
        ),
    );
    server.route(
        "/sr?limit=2&offset=2",
        Route::ok(
            fixture_bytes("ats/smartrecruiters/synthetic_page2.json"),
            "application/json",
        ),
    );
    let mut watchlist = String::new();
    for (name, key, path) in [
        ("vercel", "greenhouse", "/gh"),
        ("lev", "lever", "/lever"),
        ("ash", "ashby", "/ashby"),
        ("work", "workable", "/workable"),
        ("rec", "recruitee", "/recruitee"),
        ("pers", "personio", "/personio"),
        ("smart", "smartrecruiters", "/sr?limit=2&offset=0"),
    ] {
        watchlist.push_str(&format!(
            "[[company]]\nname = \"{name}\"\n{key} = \"{}\"\n",
            server.url(path)
        ));
    }
    let sb = Sandbox::new(&watchlist);
    let out = sb.run(&["poll", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let offers = json_lines(&out);
    let from = |s: &str| {
        offers
            .iter()
            .filter(|o| o["sources"][0] == s)
            .collect::<Vec<_>>()
    };
    for name in ["vercel", "lev", "ash", "work", "rec", "pers", "smart"] {
        assert!(
            !from(name).is_empty(),
            "no offers from {name}: {}",
            stdout(&out)
        );
        for o in from(name) {
            assert!(o["company"].is_string(), "{o}");
            // A hostile `javascript:` link is dropped, never kept.
            assert!(
                o["url"].is_null() || o["url"].as_str().is_some_and(|u| u.starts_with("http")),
                "{name}: {o}"
            );
            assert!(!o["title"].as_str().unwrap().contains('<'), "{o}");
        }
    }
    // Greenhouse's entity-escaped HTML content comes out as plain text.
    for o in from("vercel") {
        let s = o["summary"].as_str().unwrap_or("");
        assert!(!s.contains("&lt;") && !s.contains("<p>"), "{s}");
    }
    // SmartRecruiters: both pages followed (2 + 1 postings).
    assert_eq!(from("smart").len(), 3, "{:#?}", from("smart"));
    assert_eq!(server.hits("/sr?limit=2&offset=2").0, 1);
}

#[test]
fn a_page_with_cards_and_json_ld_and_test_source_shows_the_counts() {
    let server = Server::start();
    server.route(
        "/jobs",
        Route::ok(
            fixture_bytes("pages/board_cards_and_jsonld.html"),
            "text/html; charset=utf-8",
        ),
    );
    let html = String::from_utf8(fixture_bytes("pages/board_cards_and_jsonld.html")).unwrap();
    // The selectors this synthetic board uses.
    assert!(
        html.contains("class=\"offer-card\"") || html.contains("offer"),
        "fixture changed"
    );
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"board\"\npage = \"{}\"\n[board.select]\nitem = \"article\"\ntitle = \"h2\"\n",
        server.url("/jobs")
    ));
    let out = sb.run(&["test-source", "board"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("board: select.item: "), "{text}");
    assert!(text.contains("board: JSON-LD: "), "{text}");
    let json = sb.run(&["test-source", "board", "--json"]);
    let offers = json_lines(&json);
    assert!(!offers.is_empty());
    // Each offer once, by URL.
    let mut urls: Vec<&str> = offers.iter().filter_map(|o| o["url"].as_str()).collect();
    let n = urls.len();
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), n, "{offers:#?}");
    // A missing robots.txt (404) allowed the fetch; nothing was stored.
    assert!(!sb.path("state").exists());
}

#[test]
fn robots_txt_disallow_fails_the_source_without_fetching_it() {
    let server = Server::start();
    server.route(
        "/robots.txt",
        Route::ok("User-agent: *\nDisallow: /private\n", "text/plain"),
    );
    server.route(
        "/private/jobs",
        Route::ok(fixture_bytes("pages/jsonld_graph_remote.html"), "text/html"),
    );
    server.route(
        "/public/jobs",
        Route::ok(fixture_bytes("pages/jsonld_graph_remote.html"), "text/html"),
    );
    let sb = Sandbox::new(&format!(
        "[[company]]\nname = \"private\"\ncareers = \"{}\"\n[[company]]\nname = \"public\"\ncareers = \"{}\"\n",
        server.url("/private/jobs"),
        server.url("/public/jobs")
    ));
    let out = sb.run(&["poll", "--json"]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert_eq!(server.hits("/private/jobs").0, 0);
    assert_eq!(server.hits("/public/jobs").0, 1);
    let offers = json_lines(&out);
    assert!(!offers.is_empty());
    assert!(
        offers
            .iter()
            .all(|o| o["sources"] == serde_json::json!(["public"]))
    );
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&sb.run(&["status", "--json"]))).unwrap();
    let private = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "private")
        .unwrap();
    assert!(
        private["last_error"]
            .as_str()
            .unwrap()
            .starts_with("robots.txt disallows"),
        "{private}"
    );
    assert_eq!(private["kind"], "careers");
}

#[test]
fn a_mastodon_hashtag_gives_offers_titled_from_the_post() {
    let server = Server::start();
    server.fixture(
        "/tags/FediHire.rss",
        "mastodon_tag_fedihire.rss",
        "application/rss+xml",
    );
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"fedi\"\nmastodon = \"{}\"\nhashtag = \"FediHire\"\n[[profile]]\nname = \"p\"\nquery = \"rust intern*\"\n",
        server.base
    ));
    let out = sb.run(&["poll", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let offers = json_lines(&out);
    assert_eq!(offers.len(), 2);
    let first = offers
        .iter()
        .find(|o| o["url"] == "https://mastodon.example/@ferris/113500000000000001")
        .unwrap();
    let title = first["title"].as_str().unwrap();
    assert!(
        title.starts_with("We are hiring a Rust intern in Rouen!"),
        "{title}"
    );
    assert!(title.chars().count() <= 121, "{title}");
    // The link inside the post stays in the summary.
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains("jobs.ferris.example/rust-intern"),
        "{first}"
    );
    assert_eq!(first["matches"], serde_json::json!(["p"]));
}

#[test]
fn the_same_offer_on_two_ats_is_one_offer_by_title_and_company() {
    let server = Server::start();
    let gh = r#"{"jobs":[{"id":1,"title":"Développeur Rust (H/F)","absolute_url":"https://boards.example/ferris/1","location":{"name":"Rouen"},"updated_at":"2026-11-19T09:00:00Z","content":"&lt;p&gt;Stage&lt;/p&gt;"}]}"#;
    let lever = r#"[{"id":"abc","text":"Developpeur rust - H/F","hostedUrl":"https://jobs.example/ferris/abc","categories":{"location":"Rouen, France","commitment":"Internship"},"createdAt":1763542800000,"descriptionPlain":"Stage"}]"#;
    server.route("/gh", Route::ok(gh, "application/json"));
    server.route("/lever", Route::ok(lever, "application/json"));
    let sb = Sandbox::new(&format!(
        "[[company]]\nname = \"ferris\"\ngreenhouse = \"{}\"\n[[company]]\nname = \"ferris-lever\"\nlever = \"{}\"\n",
        server.url("/gh"),
        server.url("/lever")
    ));
    let out = sb.run(&["poll", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let offers = json_lines(&out);
    // Lever gives no company name: it is the [[company]] name, which differs,
    // so only a shared company name merges. Both name the company "ferris"?
    // Greenhouse's is the [[company]] name "ferris", Lever's "ferris-lever".
    assert_eq!(offers.len(), 2, "{offers:#?}");

    // With one company name on both sides, they are one offer.
    let sb = Sandbox::new(&format!(
        "[[company]]\nname = \"ferris\"\ngreenhouse = \"{}\"\n[[board]]\nname = \"other\"\nfeed = \"{}\"\n",
        server.url("/gh"),
        server.url("/feed")
    ));
    let feed = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><link>https://x.example/</link><description>x</description>
<item><title>Développeur Rust (H/F)</title><link>https://boards.example/ferris/1?utm_source=rss</link><guid>zz-1</guid></item></channel></rss>"#;
    server.route("/feed", Route::ok(feed, "application/rss+xml"));
    let out = sb.run(&["poll", "--json"]);
    let offers = json_lines(&out);
    assert_eq!(offers.len(), 1, "{offers:#?}");
    let mut sources: Vec<String> = serde_json::from_value(offers[0]["sources"].clone()).unwrap();
    sources.sort();
    assert_eq!(sources, ["ferris", "other"]);
}

#[test]
fn a_bluesky_profile_feed_gives_offers_linking_to_the_posts() {
    let server = Server::start();
    let rss = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>@jobs.example.bsky.social - Jobs</title><link>https://bsky.app/profile/did:plc:abc123</link><description>Jobs posts</description>
<item><link>https://bsky.app/profile/did:plc:abc123/post/3kq1</link><description>Alternance développeur·se Rust à Lyon, contrat de 2 ans. Postulez ici : https://jobs.example.org/42</description><pubDate>Fri, 20 Nov 2026 10:00:00 +0000</pubDate><guid isPermaLink="false">at://did:plc:abc123/app.bsky.feed.post/3kq1</guid></item>
</channel></rss>"#;
    server.route(
        "/profile/did:plc:abc123/rss",
        Route::ok(rss, "application/rss+xml"),
    );
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"bsky\"\nbluesky = \"{}\"\n",
        server.url("/profile/did:plc:abc123/rss")
    ));
    let out = sb.run(&["poll", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let offers = json_lines(&out);
    assert_eq!(offers.len(), 1);
    assert_eq!(
        offers[0]["url"],
        "https://bsky.app/profile/did:plc:abc123/post/3kq1"
    );
    assert!(
        offers[0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Alternance développeur·se Rust à Lyon"),
        "{}",
        offers[0]
    );
    assert!(
        offers[0]["summary"]
            .as_str()
            .unwrap()
            .contains("https://jobs.example.org/42")
    );
    // "Alternance" in the title: an apprenticeship.
    assert_eq!(offers[0]["contract"], "apprenticeship");
}
