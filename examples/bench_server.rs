//! A loopback HTTP server for the benchmark: serves N generated job feeds
//! (`/feeds/{i}.rss`, 20 offers each, French and English) with an ETag, and
//! answers 304 to a matching `If-None-Match`. HTTP/1.1 with keep-alive, so
//! the server is not what is being measured.
//!
//! Usage: `bench_server N PORTFILE` — binds 127.0.0.1 on an ephemeral port,
//! writes the port to PORTFILE, serves until killed.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const TITLES_FR: [&str; 6] = [
    "Développeur·se Rust en alternance",
    "Stage ingénieur logiciel embarqué",
    "Chargé·e de communication (CDD)",
    "Data analyst junior – CDI",
    "Technicien·ne support informatique",
    "Alternance développeur full-stack",
];
const TITLES_EN: [&str; 6] = [
    "Backend engineer (Go, Rust)",
    "Junior data scientist",
    "Software engineering intern",
    "Senior platform engineer",
    "Customer success manager",
    "Frontend developer (React)",
];
const CITIES: [&str; 6] = ["Rouen", "Paris", "Lyon", "Remote", "Nantes", "Caen"];

fn feed(i: usize) -> String {
    let mut s = String::with_capacity(16 * 1024);
    s.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Board {i}</title><link>http://board{i}.example.org/</link><description>Jobs</description>\n"
    ));
    for j in 0..20 {
        let fr = (i + j) % 2 == 0;
        let title = if fr {
            TITLES_FR[(i * 7 + j) % 6]
        } else {
            TITLES_EN[(i * 5 + j) % 6]
        };
        let city = CITIES[(i + j * 3) % 6];
        let summary = if fr {
            "Rejoignez une équipe &lt;b&gt;passionnée&lt;/b&gt; : vous concevrez des services fiables, testés et documentés, en lien avec nos clients. Télétravail partiel possible."
        } else {
            "Join a &lt;b&gt;friendly&lt;/b&gt; team building reliable, tested and documented services with our customers. Partial remote work possible."
        };
        s.push_str(&format!(
            "<item><title>{title} – {city}</title><link>http://board{i}.example.org/jobs/{j}?utm_source=rss</link><guid isPermaLink=\"false\">b{i}-j{j}</guid><pubDate>Thu, 19 Nov 2026 09:{:02}:00 +0100</pubDate><category>{city}</category><description>{summary}</description></item>\n",
            j % 60
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let portfile = args.next().unwrap_or_else(|| "bench_server.port".into());
    let feeds: Arc<Vec<Vec<u8>>> = Arc::new((0..n).map(|i| feed(i).into_bytes()).collect());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    std::fs::write(&portfile, listener.local_addr()?.port().to_string())?;
    loop {
        let (conn, _) = listener.accept().await?;
        let feeds = feeds.clone();
        tokio::spawn(async move {
            let (r, mut w) = conn.into_split();
            let mut r = BufReader::new(r);
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut inm = false;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if h.trim().is_empty() {
                        break;
                    }
                    if h.to_ascii_lowercase().starts_with("if-none-match:") && h.contains("\"v1\"")
                    {
                        inm = true;
                    }
                }
                let idx = path
                    .strip_prefix("/feeds/")
                    .and_then(|p| p.strip_suffix(".rss"))
                    .and_then(|p| p.parse::<usize>().ok())
                    .filter(|i| *i < feeds.len());
                let resp = match idx {
                    Some(_) if inm => {
                        b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 0\r\n\r\n"
                            .to_vec()
                    }
                    Some(i) => {
                        let body = &feeds[i];
                        let mut v = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: \"v1\"\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        v.extend_from_slice(body);
                        v
                    }
                    None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                };
                if w.write_all(&resp).await.is_err() {
                    return;
                }
            }
        });
    }
}
