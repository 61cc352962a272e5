//! Hostile text from the web reaches no output alive: HTML digest, text
//! digest, mail headers, Atom, webhook bodies.

mod common;

use common::*;

fn assert_html_is_inert(html: &str) {
    let doc = scraper::Html::parse_document(html);
    let all = scraper::Selector::parse("*").unwrap();
    for el in doc.select(&all) {
        let name = el.value().name();
        assert!(
            !["script", "iframe", "object", "embed"].contains(&name),
            "live <{name}> in\n{html}"
        );
        for (attr, value) in el.value().attrs() {
            assert!(
                !attr.starts_with("on"),
                "event handler {attr}={value:?} in\n{html}"
            );
            if attr == "href" || attr == "src" {
                let v = value.trim().to_ascii_lowercase();
                assert!(
                    v.starts_with("http://")
                        || v.starts_with("https://")
                        || v.starts_with("mailto:"),
                    "{attr}={value:?}"
                );
            }
        }
    }
}

#[test]
fn hostile_titles_and_links_are_escaped_or_dropped_everywhere() {
    let server = Server::start();
    server.fixture("/evil.rss", "hostile_injection.rss", "application/rss+xml");
    server.route("/hook", Route::ok("ok", "text/plain"));
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"evil\"\nfeed = \"{}\"\n[[profile]]\nname = \"p\"\nquery = \"rust\"\n[[profile.notify]]\nmaildir = \"Maildir\"\n[[profile.notify]]\natom = \"p.atom\"\n[[profile.notify]]\nwebhook = \"{}\"\nformat = \"slack\"\n",
        server.url("/evil.rss"),
        server.url("/hook")
    ));
    let poll = sb.run(&["poll", "--json"]);
    assert_eq!(code(&poll), 0, "{}", stderr(&poll));
    let offers = json_lines(&poll);
    assert_eq!(offers.len(), 2);
    for o in &offers {
        let title = o["title"].as_str().unwrap();
        assert!(!title.contains('\r') && !title.contains('\n'), "{title:?}");
        // Only http(s) links are kept as an offer's URL.
        assert!(
            o["url"].is_null() || o["url"].as_str().unwrap().starts_with("https://"),
            "{o}"
        );
    }
    assert_eq!(code(&sb.run(&["digest"])), 0);

    let file = std::fs::read_dir(sb.path("Maildir/new"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let raw = std::fs::read(file).unwrap();
    let mail = mailparse::parse_mail(&raw).unwrap();
    // No header was injected by a title.
    use mailparse::MailHeaderMap;
    assert!(mail.headers.get_first_value("Bcc").is_none());
    let html = mail.subparts[1].get_body().unwrap();
    assert_html_is_inert(&html);
    let text = mail.subparts[0].get_body().unwrap();
    assert!(!text.contains("javascript:"), "{text}");

    let atom = std::fs::read_to_string(sb.path("p.atom")).unwrap();
    assert!(!atom.contains("<script"), "{atom}");
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    for e in &feed.entries {
        for l in &e.links {
            assert!(l.href.starts_with("https://"), "{}", l.href);
        }
    }

    let hook = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.path == "/hook")
        .cloned()
        .unwrap();
    let body = String::from_utf8(hook.body).unwrap();
    assert!(
        !body.contains("<script") && !body.contains("javascript:"),
        "{body}"
    );
}
