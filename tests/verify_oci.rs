//! Verification of what discovery finds on images: cosign `.att`/`.sig`, keyed and keyless.

use provost::oci::layout::LayoutStore;
use provost::verify::oci::verify_cosign;
use provost::verify::{Matcher, Root, Trust};

const IMAGE: &str = "sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122";
const BUILDER: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0";
const GITHUB: &str = "https://token.actions.githubusercontent.com";

fn layout() -> (LayoutStore, String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cosign/oci-layout-slsa-container-v2.1.0");
    let l = LayoutStore::open("cosign", &dir).expect("layout");
    let repo = l.default_repository().to_string();
    (l, repo)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
}

#[test]
fn slsa_github_generator_keyless_attestation_verifies_offline_against_the_production_root() {
    let (l, repo) = layout();
    let root = Root::Production.load().expect("root");
    let trust = vec![Trust::Identity {
        identity: Matcher::Exact(BUILDER.into()),
        issuer: Matcher::Exact(GITHUB.into()),
    }];
    let checks = rt()
        .block_on(verify_cosign(&l, &repo, IMAGE, "att", &trust, &root))
        .expect("checks");
    assert_eq!(checks.len(), 1);
    let o = &checks[0].outcome;
    assert!(o.verified, "{:?}", o.failures);
    let signer = o.signer.as_ref().expect("signer").sentence();
    assert!(
        signer.contains("slsa-framework/slsa-github-generator") && signer.contains("Rekor entry"),
        "{signer}"
    );
}

#[test]
fn the_same_attestation_fails_for_another_identity_another_digest_or_the_staging_root() {
    let (l, repo) = layout();
    let prod = Root::Production.load().expect("root");
    let wrong = vec![Trust::Identity {
        identity: Matcher::Exact(BUILDER.replace("generator_container", "not-trusted")),
        issuer: Matcher::Exact(GITHUB.into()),
    }];
    let checks = rt()
        .block_on(verify_cosign(&l, &repo, IMAGE, "att", &wrong, &prod))
        .expect("checks");
    assert!(!checks[0].outcome.verified);
    assert!(
        checks[0]
            .outcome
            .failures
            .iter()
            .any(|f| f.contains("does not match")),
        "{:?}",
        checks[0].outcome.failures
    );

    let right = vec![Trust::Identity {
        identity: Matcher::Exact(BUILDER.into()),
        issuer: Matcher::Exact(GITHUB.into()),
    }];
    let staging = Root::Staging.load().expect("root");
    let checks = rt()
        .block_on(verify_cosign(&l, &repo, IMAGE, "att", &right, &staging))
        .expect("checks");
    assert!(
        !checks[0].outcome.verified,
        "FALSE ACCEPT with the staging root"
    );

    // Replayed onto another digest: IMAGE's .att pushed under the platform image's .att tag (in
    // a copy of the layout), then read as if it belonged to it. It must be read — and refused.
    let other = "sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69";
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cosign/oci-layout-slsa-container-v2.1.0");
    let into = tmp.path().join("oci-layout-slsa-container-v2.1.0");
    std::fs::create_dir_all(&into).expect("mkdir");
    copy_dir(&dir, &into);
    let copy = LayoutStore::open("cosign", &into).expect("layout copy");
    assert_eq!(copy.default_repository(), repo);
    use provost::oci::Store;
    let att = rt()
        .block_on(copy.get_manifest(
            &repo,
            &format!("{}.att", provost::oci::referrers_tag(IMAGE)),
        ))
        .expect("IMAGE's .att");
    rt().block_on(copy.put_manifest(
        &repo,
        Some(&format!("{}.att", provost::oci::referrers_tag(other))),
        &att.media_type,
        &att.bytes,
    ))
    .expect("replayed");
    let checks = rt()
        .block_on(verify_cosign(&copy, &repo, other, "att", &right, &prod))
        .expect("checks");
    assert!(!checks.is_empty(), "the replayed attestation is read");
    assert!(
        checks
            .iter()
            .all(|c| !c.outcome.verified && !c.outcome.failures.is_empty()),
        "FALSE ACCEPT of an attestation about another digest: {checks:?}"
    );
    // The same check on its own digest still verifies: the refusal is about the subject.
    let own = rt()
        .block_on(verify_cosign(&copy, &repo, IMAGE, "att", &right, &prod))
        .expect("checks");
    assert!(own.iter().any(|c| c.outcome.verified));
    let _ = l;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}
