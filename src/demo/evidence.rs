//! The demo landscape's evidence: SLSA v1 provenance and SPDX and CycloneDX SBOMs for every
//! release, written by provost's own attestation code and attached both ways (cosign tags and
//! referrer artifacts under the tag schema).

use super::{revision, Release, Service};
use crate::evidence::attest;
use crate::evidence::decode::DSSE_MEDIA_TYPE;
use crate::evidence::provenance::SLSA_V1;
use crate::oci::media::Descriptor;
use crate::oci::{Result, Store};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Releases built by an unofficial pipeline: another builder and workflow.
pub const UNOFFICIAL: &[(&str, &str)] = &[("acme/billing", "3.2.0")];
/// Releases whose provenance names another release's digest: (repo, version, named version).
pub const PROVENANCE_OF_OTHER: &[(&str, &str, &str)] = &[("acme/worker", "1.0.0", "0.9.1")];

/// Releases whose image carries no signature.
pub const UNSIGNED: &[(&str, &str)] = &[("acme/api", "1.5.0-rc.1")];
/// Releases signed (image and attestations) by a key the demo does not trust.
pub const UNTRUSTED_SIGNER: &[(&str, &str)] = &[("acme/web", "2.0.0")];

fn minutes_after(ts: &str, m: i64) -> String {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| {
            (t + chrono::Duration::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_else(|_| ts.to_string())
}

fn run_number(service: &Service, release: &Release) -> u64 {
    let d = crate::oci::digest::sha256(
        format!("run {}@{}", service.repository, release.version).as_bytes(),
    );
    u64::from_str_radix(&d.trim_start_matches("sha256:")[..8], 16).unwrap_or(1) % 9_000_000_000
        + 1_000_000_000
}

/// The SLSA v1 predicate for a release, as GitHub's attest-build-provenance writes it.
pub fn provenance_predicate(service: &Service, release: &Release) -> Value {
    let name = service
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(service.repository);
    let repo_url = service.source;
    let unofficial = UNOFFICIAL.contains(&(service.repository, release.version));
    let (builder, workflow, git_ref, runner) = if unofficial {
        (
            "https://jenkins.acme.internal/job/billing-ci".to_string(),
            ".github/workflows/ci.yml".to_string(),
            "refs/heads/main".to_string(),
            "self-hosted",
        )
    } else {
        (
            "https://github.com/actions/runner/github-hosted".to_string(),
            ".github/workflows/release.yml".to_string(),
            format!("refs/tags/v{}", super::built_from(service, release).0),
            "github-hosted",
        )
    };
    let rev = revision(service, release);
    let run = run_number(service, release);
    json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {
                "workflow": { "ref": git_ref, "repository": repo_url, "path": workflow }
            },
            "internalParameters": {
                "github": { "event_name": if unofficial { "workflow_dispatch" } else { "push" }, "runner_environment": runner }
            },
            "resolvedDependencies": [
                { "uri": format!("git+{repo_url}@{git_ref}"), "digest": { "gitCommit": rev } }
            ]
        },
        "runDetails": {
            "builder": { "id": builder },
            "metadata": {
                "invocationId": format!("{repo_url}/actions/runs/{run}/attempts/1"),
                "startedOn": minutes_after(release.created, -12 - (name.len() as i64 % 5)),
                "finishedOn": release.created
            }
        }
    })
}

/// A small, realistic package list per service.
fn packages(
    service: &Service,
    release: &Release,
) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    // (ecosystem purl type, name, version, license)
    // acme/api 1.4.2 took a security update of golang.org/x/crypto.
    let before_142 = ["1.2.0", "1.3.0", "1.4.0", "1.4.1"].contains(&release.version);
    let x_crypto = if before_142 { "0.21.0" } else { "0.31.0" };
    match service.repository {
        "acme/api" => vec![
            ("golang", "github.com/go-chi/chi/v5", "5.0.12", "MIT"),
            ("golang", "github.com/jackc/pgx/v5", "5.5.4", "MIT"),
            ("golang", "golang.org/x/crypto", x_crypto, "BSD-3-Clause"),
            ("golang", "google.golang.org/grpc", "1.62.1", "Apache-2.0"),
            (
                "golang",
                "github.com/prometheus/client_golang",
                "1.19.0",
                "Apache-2.0",
            ),
            ("deb", "ca-certificates", "20230311", "GPL-2.0-or-later"),
        ],
        "acme/web" => vec![
            ("npm", "react", "18.2.0", "MIT"),
            ("npm", "react-dom", "18.2.0", "MIT"),
            ("npm", "next", "14.1.3", "MIT"),
            ("npm", "lodash", "4.17.21", "MIT"),
            ("npm", "left-pad", "1.3.0", ""),
            ("deb", "ca-certificates", "20230311", "GPL-2.0-or-later"),
        ],
        "acme/worker" => vec![
            ("pypi", "celery", "5.3.6", "BSD-3-Clause"),
            ("pypi", "redis", "5.0.3", "MIT"),
            ("pypi", "requests", "2.31.0", "Apache-2.0"),
            ("pypi", "urllib3", "2.2.1", "MIT"),
            ("deb", "libssl3", "3.0.11", "Apache-2.0"),
        ],
        _ => vec![
            (
                "maven",
                "org.springframework.boot/spring-boot",
                "3.2.4",
                "Apache-2.0",
            ),
            (
                "maven",
                "com.fasterxml.jackson.core/jackson-databind",
                "2.16.1",
                "Apache-2.0",
            ),
            (
                "maven",
                "org.apache.logging.log4j/log4j-core",
                "2.23.1",
                "Apache-2.0",
            ),
            (
                "maven",
                "org.postgresql/postgresql",
                "42.7.3",
                "BSD-2-Clause",
            ),
            ("deb", "libc6", "2.36", "LGPL-2.1-or-later"),
        ],
    }
}

fn purl(eco: &str, name: &str, version: &str) -> String {
    match eco {
        "deb" => format!("pkg:deb/debian/{name}@{version}"),
        "maven" => format!("pkg:maven/{name}@{version}"),
        _ => format!("pkg:{eco}/{name}@{version}"),
    }
}

/// An SPDX 2.3 document for a release.
pub fn spdx(service: &Service, release: &Release) -> Value {
    let pkgs: Vec<Value> = packages(service, release)
        .iter()
        .enumerate()
        .map(|(i, (eco, name, version, license))| {
            json!({
                "SPDXID": format!("SPDXRef-Package-{i}"),
                "name": name,
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "licenseConcluded": if license.is_empty() { "NOASSERTION" } else { license },
                "externalRefs": [{ "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl(eco, name, version) }]
            })
        })
        .collect();
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{}:{}", service.repository, release.version),
        "documentNamespace": format!("https://acme.example/spdx/{}/{}", service.repository, release.version),
        "creationInfo": { "created": release.created, "creators": ["Tool: provost-demo-0.1", "Organization: Acme"] },
        "packages": pkgs
    })
}

/// A CycloneDX 1.5 document for a release.
pub fn cyclonedx(service: &Service, release: &Release) -> Value {
    let comps: Vec<Value> = packages(service, release)
        .iter()
        .map(|(eco, name, version, license)| {
            let mut c = json!({ "type": "library", "name": name, "version": version, "purl": purl(eco, name, version) });
            if !license.is_empty() {
                c["licenses"] = json!([{ "license": { "id": license } }]);
            }
            c
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": release.created,
            "tools": { "components": [{ "type": "application", "name": "provost-demo", "version": "0.1" }] },
            "component": { "type": "container", "name": service.repository, "version": release.version }
        },
        "components": comps
    })
}

/// Attaches a release's evidence to `subject` (its image or index).
pub async fn attach(
    store: &impl Store,
    service: &Service,
    release: &Release,
    subject: &Descriptor,
    digests: &BTreeMap<String, String>,
    keys: &super::keys::DemoKeys,
) -> Result<()> {
    let repo = service.repository;
    let key = if UNTRUSTED_SIGNER.contains(&(repo, release.version)) {
        &keys.untrusted
    } else {
        &keys.release
    };
    let name = format!("{}:{}", repo, release.version);
    // The provenance subject: normally this digest; for the mis-bound demo, another release's.
    let named = PROVENANCE_OF_OTHER
        .iter()
        .find(|(r, v, _)| *r == repo && *v == release.version)
        .and_then(|(_, _, other)| digests.get(&format!("{repo}:{other}")))
        .cloned()
        .unwrap_or_else(|| subject.digest.clone());
    let prov = attest::statement(
        &name,
        &named,
        SLSA_V1,
        provenance_predicate(service, release),
    );
    let spdx_doc = spdx(service, release);
    let cdx_doc = cyclonedx(service, release);
    let prov_env = attest::sign_statement(&prov, key);
    let cdx_env = attest::sign_statement(
        &attest::statement(
            &name,
            &subject.digest,
            "https://cyclonedx.org/bom",
            cdx_doc.clone(),
        ),
        key,
    );
    // cosign: .att with the provenance and the CycloneDX attestation, .sbom with the SPDX document.
    for (env, predicate_type) in [
        (&prov_env, SLSA_V1),
        (&cdx_env, "https://cyclonedx.org/bom"),
    ] {
        let bytes = serde_json::to_vec(env).unwrap_or_default();
        crate::release::sign::attach_envelope(store, repo, &subject.digest, &bytes, predicate_type)
            .await?;
    }
    let spdx_bytes = serde_json::to_vec(&spdx_doc).unwrap_or_default();
    attest::attach_cosign_sbom(store, repo, &subject.digest, &spdx_bytes, "text/spdx+json").await?;
    // OCI 1.1 referrers: the signed provenance, and both SBOM documents.
    let mut ann = BTreeMap::new();
    ann.insert(
        "org.opencontainers.image.created".to_string(),
        release.created.to_string(),
    );
    let mut prov_ann = ann.clone();
    prov_ann.insert(
        "dev.sigstore.bundle.predicateType".to_string(),
        SLSA_V1.to_string(),
    );
    let prov_bytes = serde_json::to_vec(&prov_env).unwrap_or_default();
    attest::attach_referrer(
        store,
        repo,
        subject,
        "application/vnd.in-toto+json",
        &prov_bytes,
        DSSE_MEDIA_TYPE,
        prov_ann,
    )
    .await?;
    attest::attach_referrer(
        store,
        repo,
        subject,
        "application/spdx+json",
        &spdx_bytes,
        "application/spdx+json",
        ann.clone(),
    )
    .await?;
    let cdx_bytes = serde_json::to_vec(&cdx_doc).unwrap_or_default();
    if !UNSIGNED.contains(&(repo, release.version)) {
        let docker_reference = format!("registry.acme.example/{repo}");
        crate::release::sign::sign_image(store, repo, &subject.digest, &docker_reference, key)
            .await?;
    }
    attest::attach_referrer(
        store,
        repo,
        subject,
        "application/vnd.cyclonedx+json",
        &cdx_bytes,
        "application/vnd.cyclonedx+json",
        ann,
    )
    .await?;
    Ok(())
}
