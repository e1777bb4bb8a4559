//! In-process verification rate: `verify_rate BUNDLE ARTIFACT IDENTITY ISSUER [N]` verifies the
//! bundle N times (default 2000) against the embedded production root and prints the rate.
#![allow(clippy::disallowed_macros)] // a test or benchmark prints its own fixed reports

use provost::verify::{verify_bundle, Matcher, Root, Subject, Trust};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 5 {
        return Err("usage: verify_rate BUNDLE ARTIFACT IDENTITY ISSUER [N]".into());
    }
    let bundle = std::fs::read_to_string(&a[1])?;
    let artifact = std::fs::read(&a[2])?;
    let trust = Trust::Identity {
        identity: Matcher::Exact(a[3].clone()),
        issuer: Matcher::Exact(a[4].clone()),
    };
    let n: usize = a.get(5).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let root = Root::Production.load()?;
    let subject = Subject::Bytes(artifact);
    let start = std::time::Instant::now();
    for _ in 0..n {
        let o = verify_bundle(&bundle, &subject, &trust, &root);
        if !o.verified {
            return Err(format!("did not verify: {:?}", o.failures).into());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} verifications in {secs:.2} s: {:.0} per second, {:.3} ms each",
        n as f64 / secs,
        secs * 1000.0 / n as f64
    );
    Ok(())
}
