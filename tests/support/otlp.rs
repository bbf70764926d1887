//! A small OTLP/HTTP receiver for the export tests: a real listener on loopback that answers 200 to every
//! POST and hands over each request line and JSON body.
#![allow(clippy::unwrap_used)]

/// One request received: its request line, its headers (names lower-case), its body as JSON.
pub type Request = (String, Vec<(String, String)>, serde_json::Value);

/// Listens on a loopback port; its address, and each request received (request line, JSON body).
pub fn receiver() -> (String, std::sync::mpsc::Receiver<(String, serde_json::Value)>) {
    let (address, requests) = receiver_with_headers();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (line, _, body) in requests {
            if sender.send((line, body)).is_err() {
                return;
            }
        }
    });
    (address, receiver)
}

/// [`receiver`], with each request's headers.
pub fn receiver_with_headers() -> (String, std::sync::mpsc::Receiver<Request>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let (mut request_line, mut length, mut headers) = (String::new(), 0usize, Vec::new());
            reader.read_line(&mut request_line).unwrap_or_default();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
                    if name == "content-length" {
                        length = value.parse().unwrap_or(0);
                    }
                    headers.push((name, value));
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            if sender.send((request_line.trim().to_string(), headers, json)).is_err() {
                return;
            }
        }
    });
    (address, receiver)
}
