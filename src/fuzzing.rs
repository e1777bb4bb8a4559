//! One entry point per parser of outside data, shared by the cargo-fuzz targets in `fuzz/` and
//! by the corpus replay test (`tests/fuzz_replay.rs`), so what CI replays is exactly what was
//! fuzzed. Each takes arbitrary bytes and must never panic, hang or allocate without bound.

use crate::evidence::decode::{decode_blob, Context, SIMPLE_SIGNING};
use crate::evidence::{envelope, provenance, Found};
use crate::oci::media::{self, Manifest};
use crate::policy::versions::Scheme;

fn ctx(found: Found) -> Context {
    Context {
        digest: "sha256:00".into(),
        manifest: None,
        found,
        location: "fuzz".into(),
        target: Some(format!("sha256:{}", "ab".repeat(32))),
        describes: None,
    }
}

/// OCI and Docker manifests and indexes.
pub fn manifest(data: &[u8]) {
    for mt in [
        media::OCI_MANIFEST,
        media::OCI_INDEX,
        "application/vnd.docker.distribution.manifest.v2+json",
        "",
    ] {
        let _ = Manifest::parse(data, mt);
    }
}

/// A referrers index (the API's answer or the fallback tag).
pub fn referrers_index(data: &[u8]) {
    let _ = serde_json::from_slice::<media::ImageIndex>(data);
}

/// `WWW-Authenticate` challenges.
pub fn www_authenticate(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::oci::auth::parse_challenge(s);
    }
}

/// `Link` headers.
pub fn link(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::oci::http::next_link(s);
    }
}

/// DSSE envelopes and the statements inside them.
pub fn dsse(data: &[u8]) {
    if let Ok(env) = serde_json::from_slice::<envelope::Envelope>(data) {
        let _ = envelope::statement_from_envelope(&env);
        let _ = env.payload_bytes();
    }
}

/// in-toto statements.
pub fn statement(data: &[u8]) {
    if let Ok(st) = envelope::Statement::parse(data) {
        let _ = st.binds(&format!("sha256:{}", "00".repeat(32)));
        let _ = st.subject_digests();
    }
}

/// SLSA provenance v0.1, v0.2 and v1, and its sentence.
pub fn slsa(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        for t in [
            provenance::SLSA_V01,
            provenance::SLSA_V02,
            provenance::SLSA_V1,
        ] {
            if let Ok(p) = provenance::decode(t, &v) {
                let _ = p.sentence();
            }
        }
    }
}

/// SPDX and CycloneDX documents, and the denied-package check over their packages.
pub fn sbom(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(s) = crate::evidence::sbom::summarize(&v) {
            if let Ok(d) =
                crate::policy::packages::Denial::parse("left-pad vers:npm/>=1.0.0|<2.0.0")
            {
                for p in &s.packages {
                    let _ = d.matches(p);
                }
            }
        }
    }
}

/// cosign simple-signing payloads.
pub fn simple_signing(data: &[u8]) {
    let _ = decode_blob(data, SIMPLE_SIGNING, &ctx(Found::CosignTag));
}

/// Sigstore bundle JSON as provost reads it.
pub fn bundle(data: &[u8]) {
    let _ = envelope::parse_bundle(data);
    let _ = decode_blob(
        data,
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        &ctx(Found::ReferrersTag),
    );
}

/// Policy TOML, validated.
pub fn policy(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::policy::PolicyFile::parse(s, "fuzz.toml");
    }
}

/// provost.toml, validated.
pub fn config(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = crate::config::ConfigFile::parse(s, "fuzz.toml") {
            let _ = c.validate("fuzz.toml");
        }
    }
}

/// The gate cache's pack files.
pub fn pack(data: &[u8]) {
    let _ = crate::oci::pack::scan(data);
}

/// References, digests, deny entries and version orderings.
pub fn reference(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::oci::ArtifactRef::parse(s, |_| false);
        let _ = crate::oci::Digest::parse(s);
        let _ = crate::oci::digest::short(s);
        let _ = crate::policy::packages::Denial::parse(s);
        if s.is_char_boundary(s.len() / 2) {
            let (a, b) = s.split_at(s.len() / 2);
            for sc in [
                Scheme::Semver,
                Scheme::Maven,
                Scheme::Pep440,
                Scheme::Debian,
                Scheme::Generic,
            ] {
                let _ = sc.compare(a, b);
            }
        }
    }
}

/// One fuzz entry point.
pub type Target = fn(&[u8]);

/// Every target by name, for the replay test and the fuzz script.
pub const TARGETS: &[(&str, Target)] = &[
    ("manifest", manifest),
    ("referrers_index", referrers_index),
    ("www_authenticate", www_authenticate),
    ("link", link),
    ("dsse", dsse),
    ("statement", statement),
    ("slsa", slsa),
    ("sbom", sbom),
    ("simple_signing", simple_signing),
    ("bundle", bundle),
    ("policy", policy),
    ("config", config),
    ("pack", pack),
    ("reference", reference),
    ("layer", layer),
    ("docker_answer", docker_answer),
];

/// A layer's bytes as `diff --files` reads them: gzip (every member), zstd (every frame) or
/// plain tar, with long names and PAX records bounded.
pub fn layer(data: &[u8]) {
    let _ = crate::lineage::files::decode_layer(data, Default::default());
}

/// A Docker Engine API's container list, and each image reference in it.
pub fn docker_answer(data: &[u8]) {
    if let Ok(list) = crate::triage::runtime::docker_containers(data) {
        for c in list {
            let _ = crate::triage::runtime::split_image(&c.image);
        }
    }
}
