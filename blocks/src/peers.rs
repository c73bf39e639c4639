//! Misbehaving peers on loopback for the clients' unit tests: one that takes a request and hangs up
//! without answering (an answer lost after the service may have applied it), and an address where nothing
//! listens (a connection refused before anything was sent).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;

/// The URL of a peer that reads each request whole and closes the connection without answering.
pub fn hangs_up() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            // Dropped here: the connection closes with no answer.
        }
    });
    url
}

/// The URL of a loopback port where nothing listens.
pub fn refuses() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    drop(listener);
    url
}
