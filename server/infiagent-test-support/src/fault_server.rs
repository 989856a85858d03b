//! A misbehaving model server on loopback (axum): each request gets the next
//! [`Reply`] of a script (the last one repeats), and every request is recorded
//! with the time it arrived.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use futures::stream::{self, BoxStream};

/// How a streamed body ends after its last chunk.
#[derive(Clone, Copy, Debug)]
pub enum BodyEnd {
    /// Properly: the response is complete.
    Close,
    /// The connection is cut: the body stops without its end.
    Cut,
    /// Nothing more is ever sent, and the connection stays open.
    Hang,
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A whole body at once.
    Whole {
        /// The HTTP status.
        status: u16,
        /// Extra headers.
        headers: Vec<(&'static str, String)>,
        /// The body.
        body: String,
    },
    /// Status 200 and a body sent in pieces, each after its silence.
    Chunks {
        /// The content type.
        content_type: &'static str,
        /// The pieces of the body, as sent, each with the silence before it.
        chunks: Vec<(Duration, String)>,
        /// What happens after the last chunk.
        end: BodyEnd,
    },
    /// Status `status` and `chunk` repeated until `total` bytes were offered
    /// (`None`: forever), with `Content-Length` announced when `total` is known
    /// and `announce` is set.
    Flood {
        /// The HTTP status.
        status: u16,
        /// The content type.
        content_type: &'static str,
        /// The piece sent again and again.
        chunk: String,
        /// How many bytes in all, if it ends.
        total: Option<usize>,
        /// Whether `Content-Length` says how big the body is.
        announce: bool,
    },
}

/// Server-sent events, one `data:` line each, sent with `gap` between them.
pub fn events(data: &[&str], gap: Duration, end: BodyEnd) -> Reply {
    Reply::Chunks {
        content_type: "text/event-stream",
        chunks: data
            .iter()
            .map(|data| (gap, format!("data: {data}\n\n")))
            .collect(),
        end,
    }
}

/// A JSON body with `status`.
pub fn json(status: u16, body: &str) -> Reply {
    Reply::Whole {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: body.into(),
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

struct Shared {
    script: Vec<Reply>,
    received: Mutex<Vec<Received>>,
}

/// A running server; it stops with the test's runtime.
#[derive(Clone)]
pub struct FaultServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultServer {
    /// Starts a server answering with `script`, in order; the last reply repeats.
    pub async fn start(script: Vec<Reply>) -> FaultServer {
        assert!(!script.is_empty(), "a script needs at least one reply");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            script,
            received: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FaultServer { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

async fn answer(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = {
        let mut received = shared.received.lock().unwrap();
        received.push(Received {
            at: Instant::now(),
            headers,
            body,
        });
        let index = (received.len() - 1).min(shared.script.len() - 1);
        shared.script[index].clone()
    };
    respond(reply)
}

fn respond(reply: Reply) -> Response {
    match reply {
        Reply::Whole {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).unwrap()
        }
        Reply::Chunks {
            content_type,
            chunks,
            end,
        } => {
            let sent = stream::iter(chunks).then(|(gap, chunk)| async move {
                tokio::time::sleep(gap).await;
                Ok::<_, std::io::Error>(chunk)
            });
            let tail: BoxStream<'static, Result<String, std::io::Error>> = match end {
                BodyEnd::Close => stream::empty().boxed(),
                BodyEnd::Cut => stream::once(async { Err(std::io::Error::other("cut")) }).boxed(),
                BodyEnd::Hang => stream::pending().boxed(),
            };
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", content_type)
                .body(Body::from_stream(sent.chain(tail)))
                .unwrap()
        }
        Reply::Flood {
            status,
            content_type,
            chunk,
            total,
            announce,
        } => {
            let mut response = Response::builder()
                .status(status)
                .header("content-type", content_type);
            if let (Some(total), true) = (total, announce) {
                response = response.header("content-length", total.to_string());
            }
            let body: BoxStream<'static, Result<Bytes, Infallible>> = match total {
                Some(total) => {
                    let piece = Bytes::from(chunk);
                    let whole = total / piece.len();
                    let rest = piece.slice(..total % piece.len());
                    stream::iter(std::iter::repeat_n(piece, whole))
                        .chain(stream::iter([rest]))
                        .map(Ok)
                        .boxed()
                }
                None => stream::repeat(Bytes::from(chunk)).map(Ok).boxed(),
            };
            response.body(Body::from_stream(body)).unwrap()
        }
    }
}
