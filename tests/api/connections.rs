//! Connection limits, on raw TCP: idle connections are closed after the keep-alive and request
//! timeouts (`server.keep_alive_seconds`, `server.client_request_timeout_ms`), and after a 413
//! the connection ends at once, so the rest of an oversized body is not read.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app_with, TestApp, MAX_BODY_BYTES};

/// Far more than any timeout of these tests: a connection still open then was never closed.
const DEADLINE: Duration = Duration::from_secs(60);

/// Reads until the server closes the connection (end of stream, or a reset); returns what was
/// read, or `None` if it is still open at `deadline`.
async fn read_until_closed(stream: &mut TcpStream, deadline: Instant) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(received),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

fn health_request() -> &'static [u8] {
    b"GET /v1/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_timeouts() {
    let app = spawn_app_with(&[
        ("MAATJE__SERVER__KEEP_ALIVE_SECONDS", "1"),
        ("MAATJE__SERVER__CLIENT_REQUEST_TIMEOUT_MS", "1000"),
    ])
    .await;
    let opened = Instant::now();
    let mut silent = Vec::new();
    let mut after_request = Vec::new();
    for i in 0..500 {
        let mut stream = TcpStream::connect(("127.0.0.1", app.port))
            .await
            .expect("a connection");
        if i % 2 == 0 {
            silent.push(stream);
        } else {
            stream
                .write_all(health_request())
                .await
                .expect("the request is sent");
            after_request.push(stream);
        }
    }
    let deadline = Instant::now() + DEADLINE;
    let mut waits = Vec::new();
    for (kind, streams) in [("silent", silent), ("after a request", after_request)] {
        for mut stream in streams {
            waits.push(tokio::spawn(async move {
                let received = read_until_closed(&mut stream, deadline).await;
                (kind, received)
            }));
        }
    }
    let mut still_open = 0;
    for wait in waits {
        let (kind, received) = wait.await.expect("the reader finished");
        match received {
            None => still_open += 1,
            Some(received) if kind == "after a request" => {
                let text = String::from_utf8_lossy(&received);
                assert!(
                    text.starts_with("HTTP/1.1 200"),
                    "the request was answered before the close: {text}"
                );
                assert!(
                    !text.to_ascii_lowercase().contains("connection: close"),
                    "the answer kept the connection alive: {text}"
                );
            }
            // A silent connection is closed with a 408 or without a word.
            Some(received) => {
                let text = String::from_utf8_lossy(&received);
                assert!(
                    text.is_empty() || text.starts_with("HTTP/1.1 408"),
                    "{text}"
                );
            }
        }
    }
    assert_eq!(
        still_open, 0,
        "connections still open {DEADLINE:?} after the timeouts"
    );
    // Not before the timeouts (a lower bound only: a closed connection cannot reopen).
    assert!(
        opened.elapsed() >= Duration::from_millis(900),
        "closed too early: {:?}",
        opened.elapsed()
    );
    // The server still serves new connections.
    assert_eq!(app.get("/v1/organisations").await.status, 200);
}

/// The request head of an authenticated POST of a JSON body of `length` bytes (`None`: chunked).
fn oversized_head(app: &TestApp, length: Option<usize>) -> String {
    let framing = match length {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    format!(
        "POST /v1/organisations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\n{framing}\r\n\r\n",
        app.admin_token
    )
}

/// Streams a 100 MB body after `head` while reading the answer. Returns the bytes of the body
/// written before a write failed, and the answer; fails when the server neither reads the body
/// nor closes the connection within [`DEADLINE`].
async fn stream_a_big_body(app: &TestApp, head: String, chunked: bool) -> (usize, String) {
    const TOTAL: usize = 100 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let stream = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("a connection");
    let (mut reader, mut writer) = stream.into_split();
    let answer = tokio::spawn(async move {
        let mut received = Vec::new();
        let _ = tokio::time::timeout(DEADLINE, reader.read_to_end(&mut received)).await;
        String::from_utf8_lossy(&received).into_owned()
    });
    let progress = std::cell::Cell::new(0);
    let writing = async {
        writer.write_all(head.as_bytes()).await?;
        let data = vec![b' '; CHUNK];
        let mut written = 0;
        while written < TOTAL {
            if chunked {
                writer
                    .write_all(format!("{CHUNK:x}\r\n").as_bytes())
                    .await?;
                writer.write_all(&data).await?;
                writer.write_all(b"\r\n").await?;
            } else {
                writer.write_all(&data).await?;
            }
            written += CHUNK;
            progress.set(written);
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        Ok::<_, std::io::Error>(written)
    };
    let outcome = tokio::time::timeout(DEADLINE, writing).await;
    let written = progress.get();
    match outcome {
        Err(_) => panic!(
            "the server neither read the body nor closed the connection \
             ({written} bytes written in {DEADLINE:?})"
        ),
        Ok(Ok(all)) => panic!("the server read the whole body ({all} bytes)"),
        Ok(Err(_)) => {}
    }
    (written, answer.await.expect("the reader finished"))
}

#[tokio::test]
async fn after_a_413_the_connection_ends_without_reading_the_body() {
    let app = spawn_app_with(&[]).await;
    let before = app.table_counts();
    for (kind, length) in [
        ("Content-Length", Some(100 * 1024 * 1024)),
        ("chunked", None),
    ] {
        let head = oversized_head(&app, length);
        let (written, answer) = stream_a_big_body(&app, head, length.is_none()).await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{kind}: the answer is a 413: {answer}"
        );
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{kind}: {answer}"
        );
        // The limit (64 KiB), plus what the kernel's socket buffers on both sides take in
        // before the close (a few MB on Linux): far below the 100 MB announced.
        assert!(
            written < 16 * 1024 * 1024,
            "{kind}: {written} bytes were taken in after a limit of {MAX_BODY_BYTES}"
        );
        eprintln!("{kind}: {written} bytes written before the connection ended");
    }
    assert_eq!(app.table_counts(), before);
    // The server still serves.
    assert_eq!(app.get("/v1/organisations").await.status, 200);
}
