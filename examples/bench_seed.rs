//! Fills a registry for the benchmarks: `bench_seed HOST REPOS TAGS` pushes REPOS repositories
//! (`bench/svc-NNNN`), each with one tiny image under TAGS tags, over plain HTTP;
//! `bench_seed HOST demo` pushes the demo landscape with its evidence; `bench_seed HOST records
//! N` the demo landscape and N more approval records in the prod audit chain.
#![allow(clippy::disallowed_macros)] // a test or benchmark prints its own fixed reports

use provost::oci::auth::Credential;
use provost::oci::remote::RemoteStore;
use provost::oci::Store;
use std::time::Duration;

/// The benchmark's signing key: generated on first use into `$BENCH_KEY` (PKCS#8 PEM), so
/// `--print-demo-pub` and the seeding runs agree.
fn bench_key() -> Result<p256::ecdsa::SigningKey, Box<dyn std::error::Error>> {
    use p256::pkcs8::EncodePrivateKey;
    let path = std::env::var("BENCH_KEY").unwrap_or_else(|_| "/tmp/provost-bench.key".into());
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return provost::verify::keys::load_signing_key(&pem, || {
            Err(provost::verify::VerifyError::Passphrase(
                "unencrypted".into(),
            ))
        })
        .map_err(Into::into);
    }
    let key = provost::verify::keys::generate();
    std::fs::write(
        &path,
        key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF)?.as_bytes(),
    )?;
    Ok(key)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--print-demo-pub") {
        print!("{}", provost::verify::keys::public_pem(&bench_key()?)?);
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let [_, h, mode, n] = args.as_slice() {
        if mode == "records" {
            // The demo landscape signed with the bench key (its people all sign with it too),
            // then N more approval records for prod in the audit chain.
            let n: usize = n.parse()?;
            let store = RemoteStore::with_credential(
                h,
                true,
                Duration::from_secs(30),
                Ok(Credential::Anonymous),
            )?;
            let key = bench_key()?;
            let keys = provost::demo::keys::DemoKeys {
                release: key.clone(),
                untrusted: provost::verify::keys::generate(),
                people: provost::demo::keys::PEOPLE
                    .iter()
                    .map(|p| (p.to_string(), key.clone()))
                    .collect(),
            };
            rt.block_on(async {
                provost::demo::seed(&store, &keys).await?;
                let digest = store.resolve("acme/worker", "0.9.0").await?;
                let (subject, _) =
                    provost::release::record::subject_of(&store, "acme/worker", &digest).await?;
                for i in 0..n {
                    use provost::evidence::record::*;
                    let draft = provost::release::record::Draft {
                        repository: "acme/worker".into(),
                        subject: subject.clone(),
                        children: vec![],
                        record: Record::Approval(Approval {
                            environment: "prod".into(),
                            decision: ApprovalDecision::Approve,
                            policy: provost::release::record::policy_ref("bench", b""),
                            not_after: None,
                            link: Link {
                                chain: "prod".into(),
                                previous: None,
                                time: chrono::Utc::now()
                                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                                reason: format!("bench record {i}"),
                            },
                        }),
                    };
                    provost::release::record::write(
                        &store,
                        "provost-audit",
                        &draft,
                        &provost::release::record::Signing::Key {
                            key: &key,
                            timestamp_url: None,
                            rekor_url: None,
                        },
                    )
                    .await?;
                }
                Ok::<(), Box<dyn std::error::Error>>(())
            })?;
            return Ok(());
        }
        if mode == "signed" {
            // N signed images in bench/app, each with SLSA provenance and an SPDX SBOM attached
            // the cosign way, signed by the demo key.
            let n: usize = n.parse()?;
            let store = RemoteStore::with_credential(
                h,
                true,
                Duration::from_secs(30),
                Ok(Credential::Anonymous),
            )?;
            rt.block_on(signed(&store, n))?;
            return Ok(());
        }
    }
    if let [_, h, demo] = args.as_slice() {
        if demo == "demo" {
            // The demo landscape with its evidence (provenance, SBOMs, both attachment forms).
            let store = RemoteStore::with_credential(
                h,
                true,
                Duration::from_secs(30),
                Ok(Credential::Anonymous),
            )?;
            let keys = provost::demo::keys::DemoKeys {
                release: bench_key()?,
                ..provost::demo::keys::DemoKeys::generate()
            };
            rt.block_on(provost::demo::seed(&store, &keys))?;
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

async fn signed(store: &RemoteStore, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    use futures::StreamExt;
    let key = bench_key()?;
    let key = &key;
    let results: Vec<Result<(), provost::oci::OciError>> = futures::stream::iter(0..n)
        .map(|i| async move {
            let repo = "bench/app";
            let config = format!(r#"{{"architecture":"amd64","os":"linux","created":"2026-11-01T00:00:00Z","config":{{"Env":["BUILD={i}"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#);
            let cd = store.put_blob(repo, config.as_bytes()).await?;
            let manifest = format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{}}},"layers":[]}}"#,
                config.len()
            );
            let d = store.put_manifest(repo, Some(&format!("build-{i:04}")), "application/vnd.oci.image.manifest.v1+json", manifest.as_bytes()).await?;
            // Concurrent first uploads of the same small blob can race in distribution: retry.
            let mut tries = 0;
            while let Err(e) = provost::release::sign::sign_image(store, repo, &d, "registry.example/bench/app", key).await {
                tries += 1;
                if tries >= 3 {
                    return Err(e);
                }
            }
            let predicate = serde_json::json!({
                "buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1",
                    "externalParameters": {"workflow": {"ref": format!("refs/tags/v1.0.{i}"), "repository": "https://github.com/acme/app", "path": ".github/workflows/release.yml"}}},
                "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}, "metadata": {"finishedOn": "2026-11-01T00:00:00Z"}}
            });
            let mut tries = 0;
            while let Err(e) = provost::release::sign::attest_image(store, repo, &d, "https://slsa.dev/provenance/v1", predicate.clone(), key).await {
                tries += 1;
                if tries >= 3 {
                    return Err(e);
                }
            }
            let sbom = serde_json::json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": format!("app {i}"),
                "creationInfo": {"created": "2026-11-01T00:00:00Z", "creators": ["Tool: bench"]},
                "packages": [{"SPDXID": "SPDXRef-p", "name": "serde", "versionInfo": "1.0.0", "licenseConcluded": "MIT"}]});
            provost::evidence::attest::attach_cosign_sbom(store, repo, &d, &serde_json::to_vec(&sbom).unwrap_or_default(), "text/spdx+json").await?;
            Ok(())
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(())
}
