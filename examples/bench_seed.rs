//! Fills a registry for the benchmarks: `bench_seed HOST REPOS TAGS` pushes REPOS repositories
//! (`bench/svc-NNNN`), each with one tiny image under TAGS tags, over plain HTTP;
//! `bench_seed HOST demo` pushes the demo landscape with its evidence.

use provost::oci::auth::Credential;
use provost::oci::remote::RemoteStore;
use provost::oci::Store;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let [_, h, demo] = args.as_slice() {
        if demo == "demo" {
            // The demo landscape with its evidence (provenance, SBOMs, both attachment forms).
            let store = RemoteStore::with_credential(
                h,
                true,
                Duration::from_secs(30),
                Ok(Credential::Anonymous),
            )?;
            rt.block_on(provost::demo::seed(&store))?;
            return Ok(());
        }
    }
    let (host, repos, tags) = match args.as_slice() {
        [_, h, r, t] => (h.clone(), r.parse::<usize>()?, t.parse::<usize>()?),
        _ => return Err("usage: bench_seed HOST REPOS TAGS | bench_seed HOST demo".into()),
    };
    rt.block_on(async move {
        use futures::StreamExt;
        let store = RemoteStore::with_credential(&host, true, Duration::from_secs(30), Ok(Credential::Anonymous))?;
        let store = &store;
        let results: Vec<Result<(), provost::oci::OciError>> = futures::stream::iter(0..repos)
            .map(|i| async move {
                let repo = format!("bench/svc-{i:04}");
                let config = format!(r#"{{"architecture":"amd64","os":"linux","created":"2026-11-01T00:00:00Z","config":{{"Env":["N={i}"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#);
                let cd = store.put_blob(&repo, config.as_bytes()).await?;
                let manifest = format!(
                    r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{}}},"layers":[]}}"#,
                    config.len()
                );
                for t in 0..tags {
                    store
                        .put_manifest(&repo, Some(&format!("v{t}")), "application/vnd.oci.image.manifest.v1+json", manifest.as_bytes())
                        .await?;
                }
                Ok(())
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for r in results {
            r?;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
