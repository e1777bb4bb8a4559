//! The fault proxy (tests/interop/fault_proxy.py) in front of the real registry: it injects
//! only the faults a registry cannot be made to produce and passes everything else to it.

use super::PyServer;
use std::path::Path;

pub struct Proxy {
    pub server: PyServer,
    pub host: String,
}

/// The fault proxy in front of `upstream`: `mode` on requests whose path contains
/// `path_match` (the first `count` of them, or all with 0); everything else passes through.
pub fn proxy(dir: &Path, upstream: &str, mode: &str, path_match: &str, count: u32) -> Proxy {
    let count = count.to_string();
    let server = PyServer::start(
        dir,
        "fault_proxy.py",
        &["{port}", upstream, "{log}", mode, path_match, &count, "60"],
    );
    let host = format!("127.0.0.1:{}", server.port);
    Proxy { server, host }
}

/// How many requests got the fault.
pub fn faults(p: &Proxy) -> usize {
    p.server
        .logged()
        .iter()
        .filter(|l| !l["fault"].is_null())
        .count()
}
