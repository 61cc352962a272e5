//! Test support: a fixture HTTP server on 127.0.0.1 and a runner for the
//! real `veille` binary in a scratch directory.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: String,
    pub etag: Option<String>,
    /// Extra header lines, `Name: value`.
    pub extra: Vec<String>,
}

impl Route {
    pub fn ok(body: impl Into<Vec<u8>>, content_type: &str) -> Route {
        Route {
            status: 200,
            body: body.into(),
            content_type: content_type.to_string(),
            etag: None,
            extra: Vec::new(),
        }
    }

    pub fn etag(mut self, tag: &str) -> Route {
        self.etag = Some(format!("\"{tag}\""));
        self
    }

    pub fn status(status: u16) -> Route {
        Route {
            status,
            body: b"error".to_vec(),
            content_type: "text/plain".into(),
            etag: None,
            extra: Vec::new(),
        }
    }

    pub fn header(mut self, line: &str) -> Route {
        self.extra.push(line.to_string());
        self
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A fixture server on an ephemeral loopback port: one thread per
/// connection, one request per connection (`Connection: close`), so a test
/// sees exactly what it serves.
pub struct Server {
    pub base: String,
    /// Every request received: path, headers (lower-case names), body.
    pub requests: Arc<Mutex<Vec<Request>>>,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<HashMap<String, (usize, usize)>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, (usize, usize)>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let (r, h, st, rq) = (routes.clone(), hits.clone(), stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, h, rq) = (r.clone(), h.clone(), rq.clone());
                std::thread::spawn(move || serve(conn, &r, &h, &rq));
            }
        });
        Server {
            base: format!("http://{addr}"),
            requests,
            routes,
            hits,
            stop,
            addr,
            thread: Some(thread),
        }
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    /// Serves a file from `tests/fixtures/`.
    pub fn fixture(&self, path: &str, file: &str, content_type: &str) {
        let body = std::fs::read(fixture(file)).expect("fixture");
        self.route(path, Route::ok(body, content_type).etag(file));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests served on `path`, and how many of them were 304.
    pub fn hits(&self, path: &str) -> (usize, usize) {
        self.hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or_default()
    }
}

fn serve(
    mut conn: TcpStream,
    routes: &Mutex<HashMap<String, Route>>,
    hits: &Mutex<HashMap<String, (usize, usize)>>,
    requests: &Mutex<Vec<Request>>,
) {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let method = line.split_whitespace().next().unwrap_or("GET").to_string();
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut if_none_match = None;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            if k.eq_ignore_ascii_case("if-none-match") {
                if_none_match = Some(v.trim().to_string());
            }
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = std::io::Read::read_exact(&mut reader, &mut body);
    requests.lock().unwrap().push(Request {
        method,
        path: path.clone(),
        headers,
        body,
    });
    let route = routes.lock().unwrap().get(&path).cloned();
    let (status, body, mut headers) = match route {
        None => (404, b"not found".to_vec(), Vec::new()),
        Some(route) => {
            let not_modified = route.etag.is_some() && route.etag == if_none_match;
            {
                let mut hits = hits.lock().unwrap();
                let e = hits.entry(path.clone()).or_default();
                e.0 += 1;
                if not_modified {
                    e.1 += 1;
                }
            }
            let mut headers = vec![format!("Content-Type: {}", route.content_type)];
            headers.extend(route.extra.iter().cloned());
            if let Some(tag) = &route.etag {
                headers.push(format!("ETag: {tag}"));
            }
            if not_modified {
                (304, Vec::new(), headers)
            } else {
                (route.status, route.body, headers)
            }
        }
    };
    headers.push(format!("Content-Length: {}", body.len()));
    headers.push("Connection: close".into());
    let head = format!(
        "HTTP/1.1 {status} {}\r\n{}\r\n\r\n",
        reason(status),
        headers.join("\r\n")
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
    let _ = conn.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A scratch directory holding a watchlist, a state dir and a Maildir.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// `body` is appended to a `[daemon]` table fit for tests.
    pub fn new(body: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[daemon]\nstate_dir = \"state\"\nper_host_delay = \"0s\"\ntimeout = \"10s\"\ntimezone = \"Europe/Paris\"\n\n{body}"
        );
        std::fs::write(dir.path().join("veille.toml"), text).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.path("veille.toml"), text).unwrap();
    }

    /// Runs the real binary with this sandbox's watchlist.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Like [`run`], with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let config = self.path("veille.toml");
        Command::new(env!("CARGO_BIN_EXE_veille"))
            .envs(env.iter().copied())
            .arg("--config")
            .arg(&config)
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("VEILLE_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .env_remove("RUST_LOG")
            .output()
            .expect("run veille")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses JSON Lines output.
pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}
