//! One language server session over in-memory pipes, as an editor would drive it
//! over stdio.
//!
//! Each session gets a fresh temporary workspace and a fresh single-threaded
//! runtime (dropping it ends every task the session started). The client sends a
//! valid `initialize` for that workspace, whose model endpoint is a closed loopback
//! port, and waits for the answer; then it sends the fuzzed bytes and closes its
//! side. Sending `initialize` first and waiting keeps the workspace root fixed: the
//! server ignores any later `initialize`. The server's output is read and dropped.
//!
//! The property: the server neither panics nor hangs; it ends within
//! [`SESSION_LIMIT`] once its input is closed.

use std::path::Path;
use std::time::Duration;

use infiagent_test_support::lsp::{frame, read_message};
use serde_json::{Value, json};
use tokio::io::{AsyncWriteExt, BufReader, DuplexStream};

/// How long a whole session may take, end of input included.
pub const SESSION_LIMIT: Duration = Duration::from_secs(10);

/// Bytes each in-memory pipe buffers.
const PIPE_BYTES: usize = 1 << 16;

/// The request id of the opening `initialize`.
const INITIALIZE_ID: i64 = 0;

/// The `file:` URI of `path`, without a trailing slash.
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The opening `initialize` for the workspace at `root_uri`: models on a closed
/// loopback port, no retries; the client supports progress, configuration and
/// versioned workspace edits, so the server uses them.
fn initialize(root_uri: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": INITIALIZE_ID,
        "method": "initialize",
        "params": {
            "processId": null,
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "fuzz"}],
            "initializationOptions": {
                "model": {
                    "base_url": "http://127.0.0.1:9/v1",
                    "name": "fuzz",
                    "max_retries": 0,
                    "timeout_seconds": 1
                }
            },
            "capabilities": {
                "window": {"workDoneProgress": true},
                "workspace": {
                    "configuration": true,
                    "workspaceEdit": {"documentChanges": true, "changeAnnotationSupport": {}},
                    "didChangeWatchedFiles": {"dynamicRegistration": true}
                }
            }
        }
    })
}

/// Runs one session: `client_bytes` gets the workspace root's URI and returns what
/// the client sends after the opening `initialize`.
///
/// Panics (a crash for the fuzzer) when the server does not answer `initialize` or
/// does not end within [`SESSION_LIMIT`].
pub fn run_session(client_bytes: impl FnOnce(&str) -> Vec<u8>) {
    let workspace = tempfile::tempdir().expect("a temporary workspace");
    let root = workspace
        .path()
        .canonicalize()
        .expect("the temporary workspace has a canonical path");
    let root_uri = file_uri(&root);
    let bytes = client_bytes(&root_uri);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (client_writer, server_reader) = tokio::io::duplex(PIPE_BYTES);
        let (server_writer, client_reader) = tokio::io::duplex(PIPE_BYTES);
        let server = infiagent_lsp::serve(server_reader, server_writer);
        let client = drive(client_writer, client_reader, &root_uri, &bytes);
        let session = async { tokio::join!(server, client) };
        if tokio::time::timeout(SESSION_LIMIT, session).await.is_err() {
            panic!(
                "the server did not end within {SESSION_LIMIT:?} of a session of {} bytes",
                bytes.len()
            );
        }
    });
    drop(runtime);
}

/// The client: `initialize`, its answer, then `bytes` and the end of input, while
/// every output is read.
async fn drive(mut writer: DuplexStream, reader: DuplexStream, root_uri: &str, bytes: &[u8]) {
    let mut reader = BufReader::new(reader);
    writer
        .write_all(&frame(&initialize(root_uri)))
        .await
        .expect("the server reads initialize");
    loop {
        let message = read_message(&mut reader)
            .await
            .expect("the server answers initialize before ending");
        if message["id"] == INITIALIZE_ID {
            assert!(
                message.get("result").is_some(),
                "initialize failed: {message}"
            );
            break;
        }
    }
    let send = async {
        // The server stops reading after `exit`: the rest is refused, which is fine.
        let _ = writer.write_all(bytes).await;
        let _ = writer.shutdown().await;
        drop(writer);
    };
    let drain = async {
        let _ = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await;
    };
    tokio::join!(send, drain);
}
