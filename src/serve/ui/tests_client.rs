//! A client of the UI's routes over raw HTTP/1.1 for the tests: a response's head as it comes, and its
//! body read as server-sent events one at a time, so a test sees each event when it is sent.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::serve::{Daemon, MAX_STREAMS};

/// How long a test waits for what must come before it fails (a hung stream, not a slow machine).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A response read as it arrives: its head, then its body's server-sent events one by one.
pub struct Response {
    pub code: u16,
    /// The head, in lower case.
    pub head: String,
    body: BufReader<TcpStream>,
    /// Decoded body not yet split into events.
    text: String,
    /// Whether the last chunk was read.
    done: bool,
}

/// One server-sent event.
#[derive(Debug)]
pub struct Event {
    pub name: String,
    pub id: Option<String>,
    pub data: Value,
}

/// `GET path` with `headers` over HTTP/1.1, read up to the end of the head.
pub async fn open(addr: std::net::SocketAddr, path: &str, headers: &str) -> Response {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut body = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(PATIENCE, body.read_line(&mut line))
            .await
            .expect("the response's head")
            .unwrap();
        if n == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    Response {
        code,
        head: head.to_ascii_lowercase(),
        body,
        text: String::new(),
        done: false,
    }
}

impl Response {
    /// The next event, comments (keep-alives) skipped; `None` once the stream has ended.
    pub async fn event(&mut self) -> Option<Event> {
        loop {
            if let Some(at) = self.text.find("\n\n") {
                let block: String = self.text.drain(..at + 2).collect();
                let (mut name, mut id, mut data) = ("message".to_string(), None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = v.to_string();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).unwrap();
                return Some(Event { name, id, data });
            }
            if self.done || !self.chunk().await {
                self.done = true;
                return None;
            }
        }
    }

    /// Reads one chunk of the chunked body into `text`; false at its end.
    async fn chunk(&mut self) -> bool {
        let mut size = String::new();
        let read = tokio::time::timeout(PATIENCE, self.body.read_line(&mut size))
            .await
            .expect("an event or the stream's end")
            .unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if read == 0 || size == 0 {
            return false;
        }
        let mut bytes = vec![0; size + 2];
        self.body.read_exact(&mut bytes).await.unwrap();
        self.text
            .push_str(&String::from_utf8_lossy(&bytes[..size]).replace("\r\n", "\n"));
        true
    }

    /// The next event, which must come.
    pub async fn expect(&mut self) -> Event {
        self.event()
            .await
            .expect("an event before the stream ended")
    }
}

/// The `data-events` address of a page's live indicator.
pub fn events_of(page: &str) -> String {
    let at = page.find("data-events=\"").expect("a live indicator") + "data-events=\"".len();
    page[at..at + page[at..].find('"').unwrap()].replace("&amp;", "&")
}

/// Waits until every stream's place is free again: the streams' polling has ended.
pub async fn streams_closed(daemon: &Daemon) {
    tokio::time::timeout(PATIENCE, async {
        while daemon.streams.available_permits() < MAX_STREAMS {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every stream closed once its client left");
}
