//! Evidence discovery against a real registry (distribution 2.8: no referrers API, so the tag
//! schema is exercised), with skopeo moving evidence between repositories.

mod common;

use common::*;
use provost::evidence::{discover, Binding, Found, Kind};
use provost::oci::layout::LayoutStore;
use provost::oci::Store;

const COSIGN_IMAGE: &str =
    "sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122";

fn cosign_layout() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cosign/oci-layout-slsa-container-v2.1.0")
}

#[test]
fn a_cosign_saved_layout_loaded_into_the_registry_yields_its_slsa_attestation() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    let layout = LayoutStore::open("cosign", &cosign_layout()).expect("layout");
    let repo = layout.default_repository().to_string();
    // As `cosign load` does: blobs and manifests, the image at a tag, the attestation
    // manifest at the `.att` tag.
    rt.block_on(async {
        let image = provost::oci::copy::copy_artifact(
            &layout,
            &repo,
            &s,
            "slsa/example",
            COSIGN_IMAGE,
            Some("v2.1.0"),
        )
        .await
        .expect("image");
        assert_eq!(image, COSIGN_IMAGE);
        let att_tag = format!("{}.att", provost::oci::referrers_tag(COSIGN_IMAGE));
        let att = layout
            .resolve(&repo, &att_tag)
            .await
            .expect("att in layout");
        provost::oci::copy::copy_artifact(&layout, &repo, &s, "slsa/example", &att, Some(&att_tag))
            .await
            .expect("att");
    });
    assert_eq!(
        rt.block_on(s.referrers("slsa/example", COSIGN_IMAGE, None))
            .expect("probe"),
        None,
        "distribution has no referrers API"
    );
    let d = rt.block_on(discover(&s, "slsa/example", COSIGN_IMAGE, None));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let cosign = d
        .items
        .iter()
        .find(|i| i.found == Found::CosignTag)
        .expect("cosign attestation");
    assert_eq!(cosign.binding, Binding::Matches);
    let p = cosign.provenance.as_ref().expect("SLSA provenance");
    assert_eq!(
        p.source_repo.as_deref(),
        Some("github.com/slsa-framework/example-package")
    );
    assert_eq!(p.git_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(p.builder_id, "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0");
    assert_eq!(cosign.signatures, 1);
    // BuildKit's own attestation, mapped to the platform image it describes.
    let buildx = d
        .items
        .iter()
        .find(|i| i.found == Found::BuildxIndex)
        .expect("buildx attestation");
    assert_eq!(
        buildx.describes.as_deref(),
        Some("sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69")
    );
    assert_eq!(buildx.binding, Binding::Matches);
    assert_eq!(
        buildx.provenance.as_ref().map(|p| p.platform.as_str()),
        Some("BuildKit")
    );
}

#[test]
fn the_cosign_layout_opens_directly_with_store() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_provost(
        tmp.path(),
        &[
            "--store",
            cosign_layout().to_str().expect("utf8"),
            "evidence",
            "oci-layout-slsa-container-v2.1.0:latest",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["digest"], COSIGN_IMAGE);
    let sources: Vec<&str> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["provenance"]["source_repo"].as_str())
        .collect();
    assert_eq!(
        sources,
        vec!["github.com/slsa-framework/example-package"; 2]
    );
}

#[test]
fn demo_evidence_in_the_registry_is_found_both_ways_and_survives_a_skopeo_copy() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let digest = rt.block_on(s.resolve("acme/api", "prod")).expect("resolve");
    let d = rt.block_on(discover(&s, "acme/api", &digest, None));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let count = |f: Found, k: Kind| {
        d.items
            .iter()
            .filter(|i| i.found == f && i.kind == k && i.usable())
            .count()
    };
    assert_eq!(count(Found::ReferrersTag, Kind::Provenance), 1);
    assert_eq!(count(Found::ReferrersTag, Kind::Sbom), 2);
    assert_eq!(count(Found::CosignTag, Kind::Provenance), 1);
    assert_eq!(count(Found::CosignTag, Kind::Sbom), 2);

    // skopeo moves the image, then the evidence tags, to another repository.
    let rd = tempfile::tempdir().expect("registries.d");
    std::fs::write(
        rd.path().join("local.yaml"),
        format!(
            "docker:\n  {}:\n    use-sigstore-attachments: true\n",
            reg.host
        ),
    )
    .expect("registries.d");
    let rdp = rd.path().to_str().expect("utf8");
    let hex = digest.trim_start_matches("sha256:");
    for tag in [
        "prod".to_string(),
        format!("sha256-{hex}"),
        format!("sha256-{hex}.att"),
        format!("sha256-{hex}.sbom"),
    ] {
        skopeo(&[
            "copy",
            "--all",
            "--registries.d",
            rdp,
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{}/acme/api:{tag}", reg.host),
            &format!("docker://{}/mirror/api:{tag}", reg.host),
        ]);
    }
    let copied = rt.block_on(discover(&s, "mirror/api", &digest, None));
    assert!(copied.errors.is_empty(), "{:?}", copied.errors);
    assert_eq!(copied.items.len(), d.items.len());
    assert_eq!(
        copied
            .items
            .iter()
            .filter(|i| i.kind == Kind::Provenance && i.usable())
            .count(),
        2
    );
}

#[test]
fn a_broken_attestation_never_hides_the_others_and_hostile_text_prints_inert() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let digest = rt.block_on(s.resolve("acme/web", "prod")).expect("resolve");
    // A hostile provenance referrer: escape sequences in every field a person reads.
    let evil = "\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}";
    let st = provost::evidence::attest::statement(
        "x",
        &digest,
        provost::evidence::provenance::SLSA_V1,
        serde_json::json!({
            "buildDefinition": {"buildType": format!("t{evil}"), "externalParameters": {"workflow": {"repository": format!("https://github.com/evil/{evil}repo"), "ref": evil, "path": evil}}},
            "runDetails": {"builder": {"id": format!("https://evil.example/{evil}")}}
        }),
    );
    let env = provost::evidence::attest::sign_statement(&st, &demo_keys().release);
    let subject = provost::oci::media::Descriptor {
        media_type: provost::oci::media::OCI_MANIFEST.into(),
        digest: digest.clone(),
        size: 1,
        ..Default::default()
    };
    rt.block_on(provost::evidence::attest::attach_referrer(
        &s,
        "acme/web",
        &subject,
        "application/vnd.in-toto+json",
        &serde_json::to_vec(&env).expect("json"),
        provost::evidence::decode::DSSE_MEDIA_TYPE,
        Default::default(),
    ))
    .expect("attach");
    // And a corrupted blob under one of the cosign attestations.
    let att = rt
        .block_on(s.get_manifest(
            "acme/web",
            &format!("sha256-{}.att", digest.trim_start_matches("sha256:")),
        ))
        .expect("att");
    let m: serde_json::Value = serde_json::from_slice(&att.bytes).expect("json");
    let layer = m["layers"][0]["digest"]
        .as_str()
        .expect("layer")
        .to_string();
    let p = reg.blob_path(&layer);
    let mut bytes = std::fs::read(&p).expect("blob");
    bytes[5] ^= 0x20;
    std::fs::write(&p, bytes).expect("corrupt");

    let d = rt.block_on(discover(&s, "acme/web", &digest, None));
    let broken = d
        .items
        .iter()
        .find(|i| i.digest == layer)
        .expect("the broken item is listed");
    assert_eq!(broken.kind, Kind::Invalid);
    assert!(
        broken
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("digest mismatch"),
        "{broken:?}"
    );
    assert!(
        d.items
            .iter()
            .filter(|i| i.usable() && i.kind == Kind::Sbom)
            .count()
            >= 3,
        "the rest still decode"
    );

    let tmp = tempfile::tempdir().expect("tmp");
    for args in [vec!["evidence"], vec!["inspect"]] {
        let mut a = vec!["--insecure-registry", &reg.host];
        a.extend(args.iter().copied());
        let r = format!("{}/acme/web:prod", reg.host);
        a.push(&r);
        let out = run_provost(tmp.path(), &a);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "escape sequences reached the terminal: {text:?}"
        );
    }
}

#[test]
fn a_sigstore_bundle_stored_as_a_referrer_is_found_and_decoded() {
    // As cosign v3 and GitHub artifact attestations store them: an artifact manifest whose
    // artifactType is the bundle media type, the bundle as its layer, pointing at the subject.
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    let bundle = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cosign/oci-attestation.sigstore.json"),
    )
    .expect("bundle");
    let subject_digest = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
    let subject = provost::oci::media::Descriptor {
        media_type: provost::oci::media::OCI_MANIFEST.into(),
        digest: subject_digest.into(),
        size: 426,
        ..Default::default()
    };
    let mut ann = std::collections::BTreeMap::new();
    ann.insert(
        "dev.sigstore.bundle.content".to_string(),
        "dsse-envelope".to_string(),
    );
    ann.insert(
        "dev.sigstore.bundle.predicateType".to_string(),
        "https://cosign.sigstore.dev/attestation/v1".to_string(),
    );
    rt.block_on(provost::evidence::attest::attach_referrer(
        &s,
        "repo",
        &subject,
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        &bundle,
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        ann,
    ))
    .expect("attach");
    let d = rt.block_on(discover(&s, "repo", subject_digest, None));
    let item = d
        .items
        .iter()
        .find(|i| i.found == Found::ReferrersTag)
        .expect("bundle referrer");
    assert_eq!(item.binding, Binding::Matches);
    assert_eq!(
        item.predicate_type.as_deref(),
        Some("https://cosign.sigstore.dev/attestation/v1")
    );
    assert_eq!(item.signatures, 1);
    // Another digest's bundle is not this digest's evidence.
    let other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let subject = provost::oci::media::Descriptor {
        digest: other.into(),
        ..subject
    };
    rt.block_on(provost::evidence::attest::attach_referrer(
        &s,
        "repo",
        &subject,
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        &bundle,
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        Default::default(),
    ))
    .expect("attach");
    let d = rt.block_on(discover(&s, "repo", other, None));
    let item = d
        .items
        .iter()
        .find(|i| i.found == Found::ReferrersTag)
        .expect("bundle referrer");
    assert!(
        matches!(item.binding, Binding::DescribesOther(_)),
        "{:?}",
        item.binding
    );
}
