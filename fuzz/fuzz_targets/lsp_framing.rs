//! LSP framing and dispatch from raw bytes: after a valid `initialize`, the input is
//! what the client writes to the server's stdin (headers, bodies, anything), then
//! the input ends. The server must not panic and must end within the session limit.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: infiagent_fuzz::offline::ensure_offline(), |data: &[u8]| {
    infiagent_fuzz::lsp::run_session(|_root_uri| data.to_vec());
});
