//! A raw HTTP/1.1 client of `GET /api/v1/events` (lighter than a full HTTP
//! client per stream, so thousands of streams measure the server, not the
//! benchmark), with `Last-Event-ID` for resuming.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::api::Res;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Option<i64>,
    pub event: String,
    pub data: String,
}

pub struct EventStream {
    sock: TcpStream,
    buf: Vec<u8>,
    body: Vec<u8>,
}

impl EventStream {
    /// Opens a stream (`addr` is host:port), resuming after `last_event_id`
    /// when given; errors unless the answer is 200.
    pub async fn open(addr: &str, token: &str, last_event_id: Option<i64>) -> Res<EventStream> {
        let mut sock = TcpStream::connect(addr).await?;
        sock.set_nodelay(true)?;
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n{resume}\r\n"
        );
        sock.write_all(req.as_bytes()).await?;
        let mut s = EventStream {
            sock,
            buf: Vec::new(),
            body: Vec::new(),
        };
        loop {
            if let Some(i) = find(&s.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&s.buf[..i]).to_string();
                if !head.starts_with("HTTP/1.1 200") {
                    return Err(format!("stream refused: {head}").into());
                }
                s.buf.drain(..i + 4);
                break;
            }
            s.fill().await?;
        }
        Ok(s)
    }

    async fn fill(&mut self) -> Res<()> {
        let mut chunk = [0u8; 16384];
        let n = self.sock.read(&mut chunk).await?;
        if n == 0 {
            return Err("stream closed".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Decodes complete chunks of the chunked body into `body`.
    fn dechunk(&mut self) -> Res<()> {
        loop {
            let Some(i) = find(&self.buf, b"\r\n") else {
                return Ok(());
            };
            let size = usize::from_str_radix(String::from_utf8_lossy(&self.buf[..i]).trim(), 16)
                .map_err(|e| format!("bad chunk size: {e}"))?;
            if size == 0 {
                return Err("stream ended".into());
            }
            if self.buf.len() < i + 2 + size + 2 {
                return Ok(());
            }
            self.body.extend_from_slice(&self.buf[i + 2..i + 2 + size]);
            self.buf.drain(..i + 2 + size + 2);
        }
    }

    /// The next event (comments such as heartbeats are skipped); an error
    /// when the connection ends.
    pub async fn next(&mut self) -> Res<Event> {
        loop {
            self.dechunk()?;
            while let Some(i) = find(&self.body, b"\n\n") {
                let frame = String::from_utf8_lossy(&self.body[..i]).to_string();
                self.body.drain(..i + 2);
                if let Some(e) = parse(&frame) {
                    return Ok(e);
                }
            }
            self.fill().await?;
        }
    }

    /// Events up to and including the first of type `kind`.
    pub async fn until(&mut self, kind: &str) -> Res<Vec<Event>> {
        let mut seen = Vec::new();
        loop {
            let e = self.next().await?;
            let done = e.event == kind;
            seen.push(e);
            if done {
                return Ok(seen);
            }
        }
    }
}

fn parse(frame: &str) -> Option<Event> {
    let mut e = Event {
        id: None,
        event: String::new(),
        data: String::new(),
    };
    for line in frame.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            e.id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            e.event = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            if !e.data.is_empty() {
                e.data.push('\n');
            }
            e.data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    (!e.event.is_empty() || !e.data.is_empty()).then_some(e)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_and_comments_are_skipped() {
        assert_eq!(
            parse("id: 42\nevent: message.created\ndata: {\"seq\":1}"),
            Some(Event {
                id: Some(42),
                event: "message.created".into(),
                data: "{\"seq\":1}".into()
            })
        );
        assert_eq!(parse(": ping"), None);
    }
}
