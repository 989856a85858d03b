//! A chat-completions endpoint that streams one reply slowly: text in two
//! pieces with a pause between them, then a `final_output` call, so that what
//! shows a reply while it arrives can be seen doing so.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The pause before the second piece of text.
pub const PAUSE: Duration = Duration::from_millis(300);

/// The events of the stream: `"Checking the "`, (pause) `"workspace.\nAll
/// good"`, a `final_output` call with `status` and `output`, the finish reason
/// and usage.
fn events(status: &str, output: &str) -> Vec<String> {
    let arguments =
        serde_json::json!({"status": status, "output": output, "error_information": output})
            .to_string();
    let mut events: Vec<String> = [
        serde_json::json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Checking the "}}]}),
        serde_json::json!({"choices": [{"index": 0, "delta": {"content": "workspace.\nAll good"}}]}),
        serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "final_output", "arguments": arguments}}]}}]}),
        serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        serde_json::json!({"choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 9,
            "prompt_tokens_details": {"cached_tokens": 32}}}),
    ]
    .iter()
    .map(|event| format!("data: {event}\n\n"))
    .collect();
    events.push("data: [DONE]\n\n".to_owned());
    events
}

/// Serves one request; returns the base URL (`http://127.0.0.1:PORT/v1`) and
/// a task that ends with the body of the request received.
pub async fn serve_once(status: &str, output: &str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let events = events(status, output);
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0; 8192];
        let body_start = loop {
            let read = socket.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the client closed the connection");
            request.extend_from_slice(&buffer[..read]);
            if let Some(end) = request.windows(4).position(|window| window == b"\r\n\r\n") {
                break end + 4;
            }
        };
        let head = String::from_utf8_lossy(&request[..body_start]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        while request.len() < body_start + length {
            let read = socket.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the client closed the connection");
            request.extend_from_slice(&buffer[..read]);
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        for (position, event) in events.iter().enumerate() {
            if position == 1 {
                tokio::time::sleep(PAUSE).await;
            }
            let chunk = format!("{:x}\r\n{event}\r\n", event.len());
            socket.write_all(chunk.as_bytes()).await.unwrap();
            socket.flush().await.unwrap();
        }
        socket.write_all(b"0\r\n\r\n").await.unwrap();
        String::from_utf8_lossy(&request[body_start..]).into_owned()
    });
    (format!("http://{address}/v1"), server)
}
