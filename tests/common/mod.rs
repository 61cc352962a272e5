//! Test support: a fixture HTTP server on 127.0.0.1 and a runner for the
//! real `veille` binary in a scratch directory.
#![allow(dead_code)]

use std::collections::HashMap;
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
}

impl Route {
    pub fn ok(body: impl Into<Vec<u8>>, content_type: &str) -> Route {
        Route {
            status: 200,
            body: body.into(),
            content_type: content_type.to_string(),
            etag: None,
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
        }
    }
}

/// A fixture server on an ephemeral loopback port.
pub struct Server {
    pub base: String,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<HashMap<String, (usize, usize)>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, (usize, usize)>>> = Arc::default();
        let (s, r, h) = (server.clone(), routes.clone(), hits.clone());
        let thread = std::thread::spawn(move || {
            for req in s.incoming_requests() {
                let path = req.url().to_string();
                let route = r.lock().unwrap().get(&path).cloned();
                let if_none_match = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("If-None-Match"))
                    .map(|h| h.value.as_str().to_string());
                let response = match route {
                    None => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
                    Some(route) => {
                        let not_modified = route.etag.is_some() && route.etag == if_none_match;
                        {
                            let mut hits = h.lock().unwrap();
                            let e = hits.entry(path.clone()).or_default();
                            e.0 += 1;
                            if not_modified {
                                e.1 += 1;
                            }
                        }
                        let mut resp = if not_modified {
                            tiny_http::Response::from_data(Vec::new()).with_status_code(304)
                        } else {
                            tiny_http::Response::from_data(route.body.clone()).with_status_code(route.status)
                        };
                        resp.add_header(
                            tiny_http::Header::from_bytes("Content-Type", route.content_type.as_bytes()).unwrap(),
                        );
                        if let Some(tag) = &route.etag {
                            resp.add_header(tiny_http::Header::from_bytes("ETag", tag.as_bytes()).unwrap());
                        }
                        resp
                    }
                };
                let _ = req.respond(response);
            }
        });
        Server {
            base: format!("http://127.0.0.1:{port}"),
            routes,
            hits,
            server,
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
        self.hits.lock().unwrap().get(path).copied().unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
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
        let config = self.path("veille.toml");
        Command::new(env!("CARGO_BIN_EXE_veille"))
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
