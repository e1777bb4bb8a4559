//! The embedded demo landscape: a few services across dev, staging and prod, built as real OCI
//! images by provost's own code. `LANDSCAPE` is plain data so later features (signatures,
//! provenance, SBOMs) add fields to `Release` and steps to `seed` without reshaping it.

pub mod evidence;
pub mod image;
pub mod keys;
pub mod records;

use crate::oci::layout::LayoutStore;
use crate::oci::media::{annotation, Platform};
use crate::oci::{OciError, Result, Store};
use image::{File, ImageSpec};
use std::collections::BTreeMap;
use std::path::Path;

/// One service (repository) of the landscape.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub repository: &'static str,
    pub source: &'static str,
    pub description: &'static str,
    pub releases: &'static [Release],
}

/// One build of a service: a digest, with the tags that point at it.
#[derive(Debug, Clone, Copy)]
pub struct Release {
    pub version: &'static str,
    pub created: &'static str,
    /// Architectures; more than one makes a multi-platform index.
    pub architectures: &'static [&'static str],
    /// Environment tags (dev, staging, prod) besides the version tag.
    pub env_tags: &'static [&'static str],
}

const AMD64: &[&str] = &["amd64"];

/// The landscape every new demo store holds.
pub const LANDSCAPE: &[Service] = &[
    Service {
        repository: "acme/api",
        source: "https://github.com/acme/api",
        description: "Public REST API",
        releases: &[
            Release {
                version: "1.2.0",
                created: "2026-09-02T09:14:00Z",
                architectures: AMD64,
                env_tags: &[],
            },
            Release {
                version: "1.3.0",
                created: "2026-09-30T15:02:00Z",
                architectures: AMD64,
                env_tags: &[],
            },
            Release {
                version: "1.4.0",
                created: "2026-10-21T11:40:00Z",
                architectures: AMD64,
                env_tags: &[],
            },
            Release {
                version: "1.4.1",
                created: "2026-11-03T08:05:00Z",
                architectures: AMD64,
                env_tags: &["prod"],
            },
            Release {
                version: "1.4.2",
                created: "2026-11-20T10:19:00Z",
                architectures: AMD64,
                env_tags: &["staging"],
            },
            Release {
                version: "1.5.0-rc.1",
                created: "2026-11-21T16:48:00Z",
                architectures: AMD64,
                env_tags: &["dev"],
            },
        ],
    },
    Service {
        repository: "acme/web",
        source: "https://github.com/acme/web",
        description: "Customer web front end",
        releases: &[
            Release {
                version: "2.0.0",
                created: "2026-08-12T13:30:00Z",
                architectures: AMD64,
                env_tags: &[],
            },
            Release {
                version: "2.1.0",
                created: "2026-10-07T10:00:00Z",
                architectures: AMD64,
                env_tags: &["prod"],
            },
            Release {
                version: "2.2.0",
                created: "2026-11-18T14:22:00Z",
                architectures: &["amd64", "arm64"],
                env_tags: &["staging", "dev"],
            },
        ],
    },
    Service {
        repository: "acme/worker",
        source: "https://github.com/acme/worker",
        description: "Background job runner",
        releases: &[
            Release {
                version: "0.9.0",
                created: "2026-07-28T07:45:00Z",
                architectures: AMD64,
                env_tags: &[],
            },
            Release {
                version: "0.9.1",
                created: "2026-09-15T12:10:00Z",
                architectures: AMD64,
                env_tags: &["prod"],
            },
            Release {
                version: "1.0.0",
                created: "2026-11-12T09:55:00Z",
                architectures: AMD64,
                env_tags: &["staging", "dev"],
            },
        ],
    },
    Service {
        repository: "acme/billing",
        source: "https://github.com/acme/billing",
        description: "Invoicing service",
        releases: &[
            Release {
                version: "3.1.0",
                created: "2026-10-01T17:20:00Z",
                architectures: AMD64,
                env_tags: &["prod"],
            },
            Release {
                version: "3.2.0",
                created: "2026-11-19T08:31:00Z",
                architectures: AMD64,
                env_tags: &["staging", "dev"],
            },
            Release {
                version: "3.1.0-rebuild.1",
                created: "2026-11-26T09:00:00Z",
                architectures: AMD64,
                env_tags: &[],
            },
            Release {
                version: "3.1.0-rebuild.2",
                created: "2026-11-26T09:30:00Z",
                architectures: AMD64,
                env_tags: &[],
            },
        ],
    },
];

/// Rebuilds of an earlier release's commit: (repository, version, the release rebuilt,
/// whether the rebuild differs only in timestamps). The lineage diff's reproducibility demo.
pub const REBUILDS: &[(&str, &str, &str, bool)] = &[
    ("acme/billing", "3.1.0-rebuild.1", "3.1.0", true),
    ("acme/billing", "3.1.0-rebuild.2", "3.1.0", false),
];

/// The release whose commit `release` was built from (itself unless a rebuild), and for a
/// rebuild whether it is reproducible apart from timestamps.
pub fn built_from(service: &Service, release: &Release) -> (&'static str, Option<bool>) {
    REBUILDS
        .iter()
        .find(|(r, v, _, _)| *r == service.repository && *v == release.version)
        .map(|(_, _, of, same)| (*of, Some(*same)))
        .unwrap_or((release.version, None))
}

/// The commit a release was built from: stable, 40 hex digits.
pub fn revision(service: &Service, release: &Release) -> String {
    let (version, _) = built_from(service, release);
    let d = crate::oci::digest::sha256(format!("{}@{}", service.repository, version).as_bytes());
    d.trim_start_matches("sha256:")[..40].to_string()
}

fn base_layer() -> std::io::Result<image::Layer> {
    image::layer(
        &[
            File { path: "etc/os-release", contents: b"NAME=\"provost demo base\"\nID=distroless\nVERSION_ID=12\n", mode: 0o644 },
            File { path: "etc/passwd", contents: b"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n", mode: 0o644 },
            File { path: "etc/ssl/certs/ca-certificates.crt", contents: &image::filler("ca-bundle", 2200), mode: 0o644 },
        ],
        "ADD base.tar /",
    )
}

fn build_spec(
    service: &Service,
    release: &Release,
    arch: &str,
    base: &image::Layer,
) -> std::io::Result<ImageSpec> {
    let name = service
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(service.repository);
    let rev = revision(service, release);
    // A rebuild keeps the files of the release it rebuilt; its files carry the build time
    // (timestamps differ), and a non-reproducible one embeds something of its own.
    let (version, rebuild) = built_from(service, release);
    let seed = match rebuild {
        Some(false) => format!(
            "{}-{version}-{arch}-{}",
            service.repository, release.created
        ),
        _ => format!("{}-{version}-{arch}", service.repository),
    };
    let binary = image::filler(&seed, 3000 + 137 * version.len() * (name.len() + 1));
    let mtime = match rebuild {
        Some(_) => chrono::DateTime::parse_from_rfc3339(release.created)
            .map(|t| t.timestamp().max(0) as u64)
            .unwrap_or(0),
        None => 0,
    };
    let app = image::layer_at(
        mtime,
        &[
            File {
                path: &format!("app/{name}"),
                contents: &binary,
                mode: 0o755,
            },
            File {
                path: "app/VERSION",
                contents: format!("{version}\n").as_bytes(),
                mode: 0o644,
            },
        ],
        &format!("COPY {name} /app/ # buildkit"),
    )?;
    let mut annotations = BTreeMap::new();
    annotations.insert(annotation::CREATED.to_string(), release.created.to_string());
    annotations.insert(annotation::SOURCE.to_string(), service.source.to_string());
    annotations.insert(annotation::REVISION.to_string(), rev.clone());
    annotations.insert(annotation::VERSION.to_string(), release.version.to_string());
    annotations.insert(annotation::TITLE.to_string(), name.to_string());
    annotations.insert(
        annotation::DESCRIPTION.to_string(),
        service.description.to_string(),
    );
    let mut labels = BTreeMap::new();
    labels.insert(annotation::SOURCE.to_string(), service.source.to_string());
    labels.insert(annotation::REVISION.to_string(), rev);
    Ok(ImageSpec {
        platform: Platform {
            architecture: arch.to_string(),
            os: "linux".into(),
            variant: (arch == "arm64").then(|| "v8".to_string()),
            os_version: None,
        },
        created: release.created.to_string(),
        entrypoint: vec![format!("/app/{name}")],
        env: vec![
            "PATH=/usr/local/bin:/usr/bin:/bin".into(),
            format!("APP_VERSION={version}"),
        ],
        labels,
        annotations,
        layers: vec![base.clone(), app],
    })
}

fn io_err(e: std::io::Error) -> OciError {
    OciError::Io {
        path: "demo layer".into(),
        source: e,
    }
}

/// Writes the whole landscape into `store`, its evidence signed with `keys`. Images are
/// reproducible; signatures depend on the keys.
pub async fn seed(store: &impl Store, keys: &keys::DemoKeys) -> Result<usize> {
    let base = base_layer().map_err(io_err)?;
    let mut digests = 0;
    let mut pushed: std::collections::BTreeMap<String, String> = Default::default();
    for service in LANDSCAPE {
        for release in service.releases {
            let repo = service.repository;
            let top = if release.architectures.len() == 1 {
                let spec = build_spec(service, release, release.architectures[0], &base)
                    .map_err(io_err)?;
                image::push_image(store, repo, &spec, Some(release.version)).await?
            } else {
                let mut children = vec![];
                for arch in release.architectures {
                    let spec = build_spec(service, release, arch, &base).map_err(io_err)?;
                    children.push(image::push_image(store, repo, &spec, None).await?);
                    digests += 1;
                }
                let spec = build_spec(service, release, release.architectures[0], &base)
                    .map_err(io_err)?;
                image::push_index(
                    store,
                    repo,
                    children,
                    spec.annotations,
                    Some(release.version),
                )
                .await?
            };
            digests += 1;
            for t in release.env_tags {
                image::tag(store, repo, &top.digest, t).await?;
            }
            pushed.insert(format!("{repo}:{}", release.version), top.digest.clone());
            evidence::attach(store, service, release, &top, &pushed, keys).await?;
        }
    }
    records::seed(store, keys).await?;
    Ok(digests)
}

/// The name the demo's trusted key goes by.
pub const DEMO_KEY_NAME: &str = "acme-release (demo)";

/// Seeds a new layout at `dir` with fresh keys and records, in the user's data directory
/// `data`, that its release key is trusted for that store.
async fn create(dir: &Path, data: &Path) -> Result<usize> {
    let store = LayoutStore::create(crate::config::DEMO_SOURCE, dir)?;
    let keys = keys::DemoKeys::generate();
    let n = seed(&store, &keys).await?;
    keys::record(data, dir, &keys)?;
    Ok(n)
}

/// Creates and seeds the demo layout at `dir` unless one is already there.
pub async fn ensure(dir: &Path, data: &Path) -> Result<()> {
    if dir.join("oci-layout").is_file() {
        return Ok(());
    }
    create(dir, data).await.map(|_| ())
}

/// Rebuilds the demo layout at `dir` from scratch. Refuses to delete a directory that holds
/// anything but an OCI layout, so a mistyped path loses nothing.
pub async fn reset(dir: &Path, data: &Path) -> Result<usize> {
    if dir.exists() {
        let entries: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| OciError::io(dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        let layout_only = entries.iter().all(|n| {
            matches!(n.as_str(), "oci-layout" | "index.json" | "blobs") || n.starts_with('.')
        });
        if !layout_only {
            return Err(OciError::Layout {
                path: dir.display().to_string(),
                reason: format!(
                    "refusing to reset: it holds files that are not part of an OCI layout ({})",
                    entries.join(", ")
                ),
            });
        }
        for n in ["index.json", "oci-layout"] {
            let p = dir.join(n);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| OciError::io(&p, e))?;
            }
        }
        let blobs = dir.join("blobs");
        if blobs.exists() {
            std::fs::remove_dir_all(&blobs).map_err(|e| OciError::io(&blobs, e))?;
        }
    }
    create(dir, data).await
}
