//! A small HTTP/1.1 server on loopback that answers as a test says and counts what it was asked: the
//! hostile (or merely honest) peer of the Qlik client's tests, where the twin cannot misbehave on demand.
//!
//! One thread accepts; each connection gets a thread, one request and `Connection: close`. It serves until
//! dropped, so every test's traffic is bounded by the test itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`…
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Request {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    before: Vec<u8>,
    /// A run of one byte written between `before` and `after` without being held in memory.
    fill: (u8, usize),
    after: Vec<u8>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            before: body.as_bytes().to_vec(),
            fill: (b' ', 0),
            after: Vec::new(),
        }
    }

    /// A JSON answer of `before`, `count` times `byte`, then `after` (a title of 100 MB).
    pub fn padded(status: u16, before: &str, byte: u8, count: usize, after: &str) -> Reply {
        Reply {
            fill: (byte, count),
            after: after.as_bytes().to_vec(),
            ..Reply::json(status, before)
        }
    }

    /// The same answer with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn write(&self, stream: &mut TcpStream) -> std::io::Result<()> {
        let length = self.before.len() + self.fill.1 + self.after.len();
        let mut head = format!(
            "HTTP/1.1 {} Test\r\ncontent-length: {length}\r\nconnection: close\r\n",
            self.status
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(&self.before)?;
        let chunk = vec![self.fill.0; 64 * 1024];
        let mut left = self.fill.1;
        while left > 0 {
            let n = left.min(chunk.len());
            stream.write_all(&chunk[..n])?;
            left -= n;
        }
        stream.write_all(&self.after)?;
        stream.flush()
    }
}

type Answer = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// A running server; dropping it stops it.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server that answers request number `n` (0 for the first) with `answer(request, n)`.
    pub fn start(answer: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let answer: Arc<Answer> = Arc::new(answer);
        let accept = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (requests, answer) = (requests.clone(), answer.clone());
                    std::thread::spawn(move || serve(stream, &requests, answer.as_ref()));
                }
            })
        };
        Server {
            url: format!("http://{addr}"),
            addr,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests").clone()
    }

    /// How many requests were received on `path` (without the query).
    pub fn count(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path.split('?').next() == Some(path))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Reads one request, records it, answers it. Errors (a client that hung up) end the connection quietly.
fn serve(stream: TcpStream, requests: &Mutex<Vec<Request>>, answer: &Answer) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let n = {
        let mut requests = requests.lock().expect("requests");
        requests.push(request.clone());
        requests.len() - 1
    };
    let _ = answer(&request, n).write(&mut writer);
    let _ = writer.shutdown(std::net::Shutdown::Both);
}
