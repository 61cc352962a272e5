//! A real SMTP server for tests: mailin's protocol state machine behind a
//! TCP accept loop on 127.0.0.1, recording every message accepted.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder, response};

#[derive(Clone, Default)]
struct Recorder {
    messages: Arc<Mutex<Vec<Vec<u8>>>>,
    current: Vec<u8>,
    /// While set, the server stores a message but does not answer 250.
    hang: Arc<AtomicBool>,
}

impl Handler for Recorder {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        self.current.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.messages
            .lock()
            .unwrap()
            .push(std::mem::take(&mut self.current));
        while self.hang.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        response::OK
    }
}

/// Serves SMTP on `listener` until the test ends; returns the received messages.
pub fn serve(listener: TcpListener) -> Arc<Mutex<Vec<Vec<u8>>>> {
    serve_with(listener, Arc::default())
}

/// Like [`serve`]; while `hang` is set, a message is stored but its 250 is
/// held back (the window where a crash can send a digest twice).
pub fn serve_with(listener: TcpListener, hang: Arc<AtomicBool>) -> Arc<Mutex<Vec<Vec<u8>>>> {
    let messages: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let handler = Recorder {
        messages: messages.clone(),
        current: Vec::new(),
        hang,
    };
    std::thread::spawn(move || {
        let builder = SessionBuilder::new("smtp.test");
        for conn in listener.incoming() {
            let Ok(stream) = conn else { continue };
            let Ok(peer) = stream.peer_addr() else {
                continue;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut reader = BufReader::new(stream.try_clone().unwrap());
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
    messages
}
