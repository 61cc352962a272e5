//! `veille run` as a process: first poll soon after start, the other
//! commands through its control socket, SIGHUP reload (a broken watchlist
//! keeps the old one), SIGTERM drain and exit 0.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(sb: &Sandbox) -> Daemon {
    let child = Command::new(env!("CARGO_BIN_EXE_veille"))
        .arg("--config")
        .arg(sb.path("veille.toml"))
        .arg("run")
        .current_dir(sb.dir.path())
        .env("HOME", sb.dir.path())
        .env_remove("RUNTIME_DIRECTORY")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(sb.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    Daemon(child)
}

fn signal(d: &Daemon, sig: &str) {
    let ok = Command::new("kill")
        .args(["-s", sig, &d.0.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// A plain HTTP/1.1 GET on loopback: (status line, body).
fn http_get(port: u16, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

fn status(sb: &Sandbox) -> serde_json::Value {
    let out = sb.run(&["status", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn the_daemon_polls_serves_the_cli_reloads_and_stops_cleanly() {
    let server = Server::start();
    server.fixture("/a.rss", "fr_latin1_jobs.rss", "application/rss+xml");
    server.fixture("/b.rss", "utf16_jobs.atom", "application/atom+xml");
    let http_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let body = format!(
        "[http]\nlisten = \"127.0.0.1:{http_port}\"\n[[board]]\nname = \"a\"\nfeed = \"{}\"\nevery = \"1h\"\n\n[[profile]]\nname = \"alice\"\nquery = \"rust OR stage\"\n[[profile.notify]]\nmaildir = \"Maildir\"\n",
        server.url("/a.rss")
    );
    let sb = Sandbox::new(&body);
    let daemon = start(&sb);
    wait_for("the control socket", Duration::from_secs(10), || {
        sb.path("state/control.sock").exists()
    });

    // The first poll comes soon after start, not an hour later.
    wait_for("the first poll", Duration::from_secs(10), || {
        status(&sb)["sources"][0]["last_poll"].is_string()
    });
    let s = status(&sb);
    assert_eq!(s["sources"][0]["offers"], 2);
    assert_eq!(s["channels"][0]["queued"], 1);

    // The HTTP endpoint: health, Prometheus metrics, the profile's Atom feed.
    let (status_line, body) = http_get(http_port, "/healthz");
    assert!(status_line.contains("200"), "{status_line}");
    assert_eq!(body.trim(), "ok");
    let (_, metrics) = http_get(http_port, "/metrics");
    let samples: Vec<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    for l in &samples {
        // Every sample line is `name{labels} value`, with a numeric value.
        let value = l.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a sample: {l}");
    }
    assert!(
        metrics.contains("veille_fetches_total{outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("veille_offers_new_total 2"), "{metrics}");
    assert!(
        metrics.contains("veille_queue_depth{profile=\"alice\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("veille_cycle_duration_seconds_count 1"),
        "{metrics}"
    );
    assert!(metrics.trim_end().ends_with("# EOF"), "{metrics}");
    let (_, atom) = http_get(http_port, "/feeds/alice.atom");
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert!(http_get(http_port, "/feeds/nobody.atom").0.contains("404"));

    // Other commands go through the daemon, with the same output.
    let offers = sb.run(&["offers", "--json"]);
    assert_eq!(code(&offers), 0, "{}", stderr(&offers));
    assert_eq!(json_lines(&offers).len(), 2);
    let poll = sb.run(&["poll", "--json"]);
    assert_eq!(code(&poll), 0, "{}", stderr(&poll));
    assert_eq!(json_lines(&poll).len(), 0);
    assert_eq!(code(&sb.run(&["poll", "--source", "nope"])), 2);
    let digest = sb.run(&["digest"]);
    assert_eq!(code(&digest), 0, "{}", stderr(&digest));
    assert!(
        stdout(&digest).contains("sent 1 offer"),
        "{}",
        stdout(&digest)
    );
    assert_eq!(
        std::fs::read_dir(sb.path("Maildir/new")).unwrap().count(),
        1
    );

    // A broken watchlist on SIGHUP: logged, the old one keeps running.
    let good = std::fs::read_to_string(sb.path("veille.toml")).unwrap();
    sb.write_config(&format!("{good}\n[[board]]\nname = \"Bad\"\n"));
    signal(&daemon, "HUP");
    wait_for(
        "the reload error in the log",
        Duration::from_secs(10),
        || {
            std::fs::read_to_string(sb.path("daemon.log"))
                .unwrap()
                .contains("still running with the previous one")
        },
    );
    let log = std::fs::read_to_string(sb.path("daemon.log")).unwrap();
    assert!(
        log.contains("veille.toml:21:8: `Bad` is not a valid name"),
        "{log}"
    );
    let mut daemon = daemon;
    assert!(
        daemon.0.try_wait().unwrap().is_none(),
        "the daemon died on a bad reload"
    );

    // A good one with a second board: taken whole, and the new board polled.
    sb.write_config(&format!(
        "{good}\n[[board]]\nname = \"b\"\nfeed = \"{}\"\n",
        server.url("/b.rss")
    ));
    signal(&daemon, "HUP");
    wait_for(
        "the new board's first poll",
        Duration::from_secs(10),
        || {
            status(&sb)["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == "b" && s["last_poll"].is_string())
        },
    );

    // SIGTERM: drains, flushes, exits 0, removes its socket.
    signal(&daemon, "TERM");
    let start = Instant::now();
    let code = loop {
        if let Some(st) = daemon.0.try_wait().unwrap() {
            break st.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(12),
            "did not stop within the drain time"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        code,
        Some(0),
        "{}",
        std::fs::read_to_string(sb.path("daemon.log")).unwrap()
    );
    assert!(!sb.path("state/control.sock").exists());
    // The store was left consistent: the CLI opens it directly now.
    assert_eq!(json_lines(&sb.run(&["offers", "--json"])).len(), 4);
}

#[test]
fn a_digest_missed_while_stopped_is_sent_once_at_start() {
    let server = Server::start();
    server.fixture("/a.rss", "fr_latin1_jobs.rss", "application/rss+xml");
    let sb = Sandbox::new(&format!(
        "[[board]]\nname = \"a\"\nfeed = \"{}\"\nevery = \"1h\"\n[[profile]]\nname = \"alice\"\nquery = \"rust\"\n[[profile.notify]]\nmaildir = \"Maildir\"\nschedule = \"0 8 * * *\"\n",
        server.url("/a.rss")
    ));
    // Matches queued, and the last digest two days ago: today's 08:00 was missed.
    assert_eq!(code(&sb.run(&["poll"])), 0);
    {
        let store = veille::store::Store::open(&sb.path("state")).unwrap();
        let channel = format!("maildir:{}", sb.path("Maildir").display());
        let mut w = store.writer();
        let st = veille::store::ChannelState {
            last_run: Some(chrono::Utc::now() - chrono::Duration::days(2)),
            ..Default::default()
        };
        w.put_channel_state("alice", &channel, &st).unwrap();
        w.commit().unwrap();
        store.flush().unwrap();
    }
    let daemon = start(&sb);
    wait_for("the caught-up digest", Duration::from_secs(10), || {
        std::fs::read_dir(sb.path("Maildir/new")).is_ok_and(|d| d.count() == 1)
    });
    // Once: a few more ticks send nothing more.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        std::fs::read_dir(sb.path("Maildir/new")).unwrap().count(),
        1
    );
    drop(daemon);
}
