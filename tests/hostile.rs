//! Hostile servers on 127.0.0.1: each fails its own source in bounded time,
//! with a one-line reason in `status`; a poll over all of them and a good
//! source finishes, exits 4, stores the good offers, and stays small.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;

/// A gzip body of about 1 MiB that inflates to 1 GiB of zeros.
fn gzip_bomb() -> Vec<u8> {
    use flate2::{Compression, write::GzEncoder};
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

fn handle(mut conn: TcpStream, bomb: &[u8], good: &[u8]) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
    }
    let head = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\n{extra}Connection: close\r\n\r\n")
    };
    let _ = match path.as_str() {
        "/good.rss" => conn
            .write_all(head("200 OK", &format!("Content-Type: application/rss+xml\r\nContent-Length: {}\r\n", good.len())).as_bytes())
            .and_then(|_| conn.write_all(good)),
        "/drip" => {
            let _ = conn.write_all(head("200 OK", "Content-Type: application/rss+xml\r\n").as_bytes());
            for _ in 0..120 {
                if conn.write_all(b"<").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(())
        }
        "/huge" => {
            let _ = conn.write_all(head("200 OK", "Content-Type: application/rss+xml\r\n").as_bytes());
            let chunk = vec![b'a'; 1 << 16];
            for _ in 0..(1 << 14) {
                if conn.write_all(&chunk).is_err() {
                    break;
                }
            }
            Ok(())
        }
        "/bomb" => conn
            .write_all(
                head("200 OK", &format!("Content-Type: application/rss+xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n", bomb.len()))
                    .as_bytes(),
            )
            .and_then(|_| conn.write_all(bomb)),
        "/loop" => conn.write_all(head("302 Found", "Location: /loop\r\nContent-Length: 0\r\n").as_bytes()),
        "/500" => conn.write_all(head("500 Internal Server Error", "Content-Length: 0\r\n").as_bytes()),
        "/junk" => {
            let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
            conn.write_all(head("200 OK", &format!("Content-Type: application/rss+xml\r\nContent-Length: {}\r\n", junk.len())).as_bytes())
                .and_then(|_| conn.write_all(&junk))
        }
        "/html" => {
            let page = b"<!DOCTYPE html><html><head><title>Jobs</title></head><body><h1>Our jobs</h1></body></html>";
            conn.write_all(head("200 OK", &format!("Content-Type: text/html\r\nContent-Length: {}\r\n", page.len())).as_bytes())
                .and_then(|_| conn.write_all(page))
        }
        "/reset" => {
            let _ = conn.write_all(head("200 OK", "Content-Type: application/rss+xml\r\nContent-Length: 100000\r\n").as_bytes());
            let _ = conn.write_all(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>");
            // SO_LINGER 0: close sends a RST instead of a FIN.
            let l = libc::linger { l_onoff: 1, l_linger: 0 };
            use std::os::fd::AsRawFd;
            // SAFETY: a valid socket fd and a correctly sized linger struct.
            unsafe {
                libc::setsockopt(
                    conn.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &l as *const libc::linger as *const libc::c_void,
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
            drop(reader);
            drop(conn);
            return;
        }
        _ => conn.write_all(head("404 Not Found", "Content-Length: 0\r\n").as_bytes()),
    };
    let mut rest = Vec::new();
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = conn.read_to_end(&mut rest);
}

fn hostile_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let bomb = std::sync::Arc::new(gzip_bomb());
    assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
    let good = std::sync::Arc::new(std::fs::read(fixture("fr_latin1_jobs.rss")).unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (bomb, good) = (bomb.clone(), good.clone());
            std::thread::spawn(move || handle(conn, &bomb, &good));
        }
    });
    format!("http://{addr}")
}

/// Peak RSS of terminated children, in KiB.
fn children_peak_kib() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

#[test]
fn hostile_servers_fail_alone_in_bounded_time() {
    let base = hostile_server();
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/feed")
    };
    let mut boards = String::new();
    for name in [
        "good", "drip", "huge", "bomb", "loop", "500", "junk", "html", "reset",
    ] {
        let path = if name == "good" {
            "/good.rss".to_string()
        } else {
            format!("/{name}")
        };
        boards.push_str(&format!(
            "[[board]]\nname = \"s{name}\"\nfeed = \"{base}{path}\"\n"
        ));
    }
    boards.push_str(&format!(
        "[[board]]\nname = \"srefused\"\nfeed = \"{refused}\"\n"
    ));
    let sb = Sandbox::new("");
    sb.write_config(&format!(
        "[daemon]\nstate_dir = \"state\"\nper_host_delay = \"0s\"\ntimeout = \"4s\"\nmax_body = \"2MiB\"\n\n{boards}"
    ));
    let started = Instant::now();
    let out = sb.run(&["poll", "--json"]);
    let took = started.elapsed();
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(took < Duration::from_secs(4 + 4), "poll took {took:?}");
    assert_eq!(
        json_lines(&out).len(),
        2,
        "the good source's offers are stored"
    );
    let peak_mb = children_peak_kib() / 1024;
    assert!(peak_mb < 100, "peak RSS {peak_mb} MB");

    let status: serde_json::Value =
        serde_json::from_str(&stdout(&sb.run(&["status", "--json"]))).unwrap();
    let err = |n: &str| {
        let s = status["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .unwrap();
        s["last_error"].as_str().map(str::to_string)
    };
    assert_eq!(err("sgood"), None);
    for (name, expect) in [
        ("sdrip", "timed out"),
        ("shuge", "larger than"),
        ("sbomb", "larger than"),
        ("sloop", "redirects"),
        ("s500", "HTTP 500"),
        ("sjunk", "not a feed"),
        ("shtml", "HTML"),
        ("sreset", "connection"),
        ("srefused", "cannot connect"),
    ] {
        let e = err(name).unwrap_or_else(|| panic!("{name} did not fail"));
        assert!(
            e.contains(expect),
            "{name}: {e:?} should mention {expect:?}"
        );
        assert!(
            !e.contains('\n') && e.len() < 300,
            "{name}: not one short line: {e:?}"
        );
    }
}
