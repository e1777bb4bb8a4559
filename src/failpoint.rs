//! Failpoints for the crash tests: with `PROVOST_FAILPOINT=NAME`, the process dies at the
//! point called NAME, as if killed there (no cleanup, no flush). Unset, a failpoint costs one
//! environment lookup.

/// Dies here when `PROVOST_FAILPOINT` names this point.
pub fn hit(name: &str) {
    if std::env::var("PROVOST_FAILPOINT").is_ok_and(|v| v == name) {
        crate::warn!("provost: failpoint {name}: stopping here");
        std::process::exit(137);
    }
}

/// Panics here when `PROVOST_FAILPOINT` names this point: how the tests reach the handling of
/// a panic in a worker thread, which no input is known to cause.
pub fn panic_at(name: &str) {
    if std::env::var("PROVOST_FAILPOINT").is_ok_and(|v| v == name) {
        panic!("failpoint {name}");
    }
}
