//! A headless command's overall bound. Every request already has its own total deadline, and
//! paging and retries are capped, but their product can still be long: a registry that answers
//! each request just inside its deadline keeps a command going for as long as it likes. The
//! bound caps the whole command (`command_timeout_secs`, by default 60 × `timeout_secs`); time
//! spent waiting for the user at a prompt is not counted. When it runs out the command is
//! dropped where it stands (writes put content before the tag that names it, so a dropped write
//! leaves the old state or the new one) and the error names the bound and the registry that was
//! asked last.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Time spent at prompts, excluded from the bound.
static PAUSED: Mutex<Duration> = Mutex::new(Duration::ZERO);
/// The origin (host:port) of the last registry request sent.
static LAST: Mutex<String> = Mutex::new(String::new());

/// The bound ran out.
#[derive(Debug)]
pub struct Exhausted {
    pub limit: Duration,
    /// The registry asked last, when any was.
    pub registry: Option<String>,
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gave up after {} s, the command's overall bound (command_timeout_secs)",
            self.limit.as_secs()
        )?;
        if let Some(r) = &self.registry {
            write!(f, ", while waiting for {}", crate::text::sanitize(r))?;
        }
        f.write_str(": raise command_timeout_secs for a long legitimate run")
    }
}

impl std::error::Error for Exhausted {}

/// Notes the registry a request goes to (for the sentence when the bound runs out).
pub fn asking(origin: &str) {
    if let Ok(mut l) = LAST.lock() {
        if *l != origin {
            origin.clone_into(&mut l);
        }
    }
}

/// Runs `f` (a blocking wait for the user) outside the bound.
pub fn paused<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    if let Ok(mut p) = PAUSED.lock() {
        *p += start.elapsed();
    }
    out
}

fn paused_so_far() -> Duration {
    PAUSED.lock().map(|p| *p).unwrap_or_default()
}

/// Runs `f` within `limit` of working time (`None`: no bound).
pub async fn within<F: Future>(limit: Option<Duration>, f: F) -> Result<F::Output, Exhausted> {
    let Some(limit) = limit else {
        return Ok(f.await);
    };
    let start = tokio::time::Instant::now();
    tokio::pin!(f);
    loop {
        // Time paused at a prompt moves the deadline out; check again when it passes.
        let deadline = start + limit + paused_so_far();
        tokio::select! {
            out = &mut f => return Ok(out),
            _ = tokio::time::sleep_until(deadline) => {
                if tokio::time::Instant::now() >= start + limit + paused_so_far() {
                    let registry = LAST.lock().ok().map(|l| l.clone()).filter(|l| !l.is_empty());
                    return Err(Exhausted { limit, registry });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_past_its_bound_is_dropped_and_one_within_finishes() {
        let slow = within(Some(Duration::from_millis(50)), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let e = slow.expect_err("past the bound");
        assert!(e.to_string().contains("command_timeout_secs"), "{e}");
        let quick = within(Some(Duration::from_secs(5)), async { 7 }).await;
        assert_eq!(quick.expect("within"), 7);
        assert_eq!(within(None, async { 8 }).await.expect("unbounded"), 8);
    }

    #[tokio::test]
    async fn time_at_a_prompt_is_not_counted() {
        let out = within(Some(Duration::from_millis(300)), async {
            // 400 ms "at the prompt", then 100 ms of work: within the 300 ms bound.
            paused(|| std::thread::sleep(Duration::from_millis(400)));
            tokio::time::sleep(Duration::from_millis(100)).await;
            1
        })
        .await;
        assert_eq!(out.expect("the prompt is not counted"), 1);
    }
}
