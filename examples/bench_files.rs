//! Pushes one image for the file-diff benchmark: `bench_files HOST REPO:TAG VARIANT` writes 5
//! gzip'd tar layers of 100 files each (about 100 MiB of files in all). Variant `b` holds the
//! same files modified at another time, with one file of the third layer changed: the diff
//! has every file's timestamp and one content change to find.
#![allow(clippy::disallowed_macros)] // a test or benchmark prints its own fixed reports

use provost::demo::image::{self, File, ImageSpec};
use provost::oci::auth::Credential;
use provost::oci::remote::RemoteStore;
use std::time::Duration;

const LAYERS: usize = 5;
const FILES: usize = 100;
const FILE_BYTES: usize = 200 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, reference, variant] = args.as_slice() else {
        return Err("usage: bench_files HOST REPO:TAG a|b".into());
    };
    let (repo, tag) = reference.split_once(':').ok_or("REPO:TAG")?;
    let b = variant == "b";
    let mut layers = vec![];
    for l in 0..LAYERS {
        let names: Vec<String> = (0..FILES).map(|f| format!("opt/l{l}/file{f:03}")).collect();
        let contents: Vec<Vec<u8>> = (0..FILES)
            .map(|f| {
                let changed = b && l == 2 && f == 42;
                let seed = format!("bench {l} {f}{}", if changed { " changed" } else { "" });
                image::filler(&seed, FILE_BYTES)
            })
            .collect();
        let files: Vec<File<'_>> = names
            .iter()
            .zip(&contents)
            .map(|(p, c)| File {
                path: p,
                contents: c,
                mode: 0o644,
            })
            .collect();
        let mtime = if b { 1_790_000_000 } else { 1_780_000_000 };
        layers.push(image::layer_at(
            mtime,
            &files,
            &format!("COPY l{l} /opt/l{l}"),
        )?);
    }
    let spec = ImageSpec {
        platform: provost::oci::media::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        },
        created: "2026-12-01T00:00:00Z".into(),
        entrypoint: vec!["/opt/l0/file000".into()],
        env: vec![],
        labels: Default::default(),
        annotations: Default::default(),
        layers,
    };
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
    let d = rt.block_on(image::push_image(&store, repo, &spec, Some(tag)))?;
    println!("{}", d.digest);
    Ok(())
}
