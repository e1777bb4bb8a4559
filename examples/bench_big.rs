//! Pushes one large image for the promotion benchmark: `bench_big HOST REPO:TAG LAYERS MIB
//! REFERRERS` writes LAYERS layers of pseudo-random bytes (MIB MiB in all, streamed, never held
//! whole), a config, the manifest under TAG, and REFERRERS small artifacts referring to it
//! (listed in its fallback referrers index, as on a registry without the API).
#![allow(clippy::disallowed_macros)] // a test or benchmark prints its own fixed reports

use futures::StreamExt;
use provost::oci::auth::Credential;
use provost::oci::media::{Descriptor, ImageManifest};
use provost::oci::remote::RemoteStore;
use provost::oci::{BlobStream, Store};
use sha2::Digest as _;
use std::time::Duration;

const CHUNK: usize = 4 * 1024 * 1024;

/// Deterministic incompressible bytes: xorshift64, `len` bytes from `seed`, chunk by chunk.
fn chunks(seed: u64, len: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut state = seed | 1;
    let mut left = len;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let n = (left as usize).min(CHUNK);
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.extend_from_slice(&state.to_le_bytes());
        }
        out.truncate(n);
        left -= n as u64;
        Some(out)
    })
}

fn digest_of(seed: u64, len: u64) -> String {
    let mut h = sha2::Sha256::new();
    for c in chunks(seed, len) {
        h.update(&c);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, reference, layers, mib, referrers] = args.as_slice() else {
        return Err("usage: bench_big HOST REPO:TAG LAYERS MIB REFERRERS".into());
    };
    let (repo, tag) = reference.split_once(':').ok_or("REPO:TAG")?;
    let layers: u64 = layers.parse()?;
    let total = mib.parse::<u64>()? * 1024 * 1024;
    let referrers: usize = referrers.parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let store = RemoteStore::with_credential(
        host,
        true,
        Duration::from_secs(300),
        Ok(Credential::Anonymous),
    )?;
    rt.block_on(async {
        let mut descs = vec![];
        for i in 0..layers {
            let len = total / layers;
            let d = digest_of(i + 7, len);
            let s: BlobStream = Box::pin(
                futures::stream::iter(chunks(i + 7, len)).map(|c| Ok(bytes::Bytes::from(c))),
            );
            store.put_blob_stream(repo, &d, len, s).await?;
            descs.push(Descriptor {
                media_type: "application/vnd.oci.image.layer.v1.tar".into(),
                digest: d,
                size: len,
                ..Default::default()
            });
        }
        let config =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let cd = store.put_blob(repo, config).await?;
        let m = ImageManifest {
            schema_version: 2,
            media_type: Some(provost::oci::media::OCI_MANIFEST.into()),
            artifact_type: None,
            config: Descriptor {
                media_type: "application/vnd.oci.image.config.v1+json".into(),
                digest: cd,
                size: config.len() as u64,
                ..Default::default()
            },
            layers: descs,
            subject: None,
            annotations: Default::default(),
        };
        let bytes = serde_json::to_vec(&m)?;
        let image = store
            .put_manifest(repo, Some(tag), provost::oci::media::OCI_MANIFEST, &bytes)
            .await?;
        let subject = Descriptor {
            media_type: provost::oci::media::OCI_MANIFEST.into(),
            digest: image.clone(),
            size: bytes.len() as u64,
            ..Default::default()
        };
        for i in 0..referrers {
            let body = format!("{{\"referrer\":{i},\"of\":\"{image}\"}}");
            let bd = store.put_blob(repo, body.as_bytes()).await?;
            let empty = store.put_blob(repo, b"{}").await?;
            let r = ImageManifest {
                schema_version: 2,
                media_type: Some(provost::oci::media::OCI_MANIFEST.into()),
                artifact_type: Some("application/vnd.provost.bench+json".into()),
                config: Descriptor {
                    media_type: "application/vnd.oci.empty.v1+json".into(),
                    digest: empty,
                    size: 2,
                    ..Default::default()
                },
                layers: vec![Descriptor {
                    media_type: "application/vnd.provost.bench+json".into(),
                    digest: bd,
                    size: body.len() as u64,
                    ..Default::default()
                }],
                subject: Some(subject.clone()),
                annotations: Default::default(),
            };
            let rb = serde_json::to_vec(&r)?;
            let rd = store
                .put_manifest(repo, None, provost::oci::media::OCI_MANIFEST, &rb)
                .await?;
            provost::evidence::attest::add_to_fallback_index(
                &store,
                repo,
                &image,
                Descriptor {
                    media_type: provost::oci::media::OCI_MANIFEST.into(),
                    digest: rd,
                    size: rb.len() as u64,
                    artifact_type: Some("application/vnd.provost.bench+json".into()),
                    ..Default::default()
                },
            )
            .await?;
        }
        println!("{image}");
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
