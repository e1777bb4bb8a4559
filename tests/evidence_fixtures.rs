//! Every provenance and SBOM vector in tests/fixtures decodes to the values its MANIFEST.md
//! states (builder id, source repository, ref, commit, subjects; package counts; invalid and
//! unsupported documents named as such).

use provost::evidence::{decode_file, Binding, EvidenceItem, Kind};

fn fixture(path: &str) -> Vec<EvidenceItem> {
    let p = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    decode_file(&bytes, path)
}

struct Expect {
    file: &'static str,
    builder: &'static str,
    source: &'static str,
    git_ref: Option<&'static str>,
    commit: Option<&'static str>,
    subject: &'static str,
}

const GENERIC_V1_10: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.10.0";
const GENERIC_V2_1: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0";
const EXAMPLE: &str = "github.com/slsa-framework/example-package";

const PROVENANCE: &[Expect] = &[
    Expect { file: "slsa-provenance/gha_generic-v1.10.0-push-v14.intoto.jsonl", builder: GENERIC_V1_10, source: EXAMPLE, git_ref: Some("refs/tags/v14"), commit: Some("d37a7f740ee7404914456f24dcd90e865a0509e8"), subject: "sha256:2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd" },
    Expect { file: "slsa-provenance/gha_generic-v2.1.0-workflow_dispatch.sigstore.json", builder: GENERIC_V2_1, source: EXAMPLE, git_ref: Some("refs/heads/main"), commit: None, subject: "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa" },
    Expect { file: "slsa-provenance/gha_generic-v2.1.0-push-v13.0.30.sigstore.json", builder: GENERIC_V2_1, source: EXAMPLE, git_ref: Some("refs/tags/v13.0.30"), commit: Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3"), subject: "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa" },
    Expect { file: "slsa-provenance/gha_go-v1.10.0-workflow_dispatch.intoto.jsonl", builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v1.10.0", source: EXAMPLE, git_ref: Some("refs/heads/main"), commit: None, subject: "sha256:370fe299114f9ff0e77a0f2ba3908e4b0c5a594334aec0afd96f99cf55fa42ba" },
    Expect { file: "slsa-provenance/gha_delegator-v2.1.0-workflow_dispatch.build.slsa.json", builder: "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml@refs/tags/v2.1.0", source: EXAMPLE, git_ref: Some("refs/heads/main"), commit: Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3"), subject: "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" },
    Expect { file: "slsa-provenance/gha_container-based-v2.1.0-workflow_dispatch.build.slsa.json", builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v2.1.0", source: EXAMPLE, git_ref: Some("refs/heads/main"), commit: Some("4d329c75e7ec1725f7c9ce917a8799d408d06be3"), subject: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    Expect { file: "slsa-provenance/gha_container-based-v1.7.0-workflow_dispatch.sigstore.json", builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v1.7.0", source: EXAMPLE, git_ref: Some("refs/heads/main"), commit: None, subject: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    Expect { file: "slsa-provenance/annotated-tag.intoto.jsonl", builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.2.2", source: "github.com/asraa/slsa-on-github-test", git_ref: Some("refs/tags/v1.5.0"), commit: Some("f24af35a7c714f1b4eeb53afefb57fa11bd5c95c"), subject: "sha256:482ce8c8f7e867da3a3c05a9aee637703e17470ed1cf882a9e5b405e8f82619d" },
    Expect { file: "slsa-provenance/multi-subject.intoto.jsonl", builder: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/heads/main", source: EXAMPLE, git_ref: Some("refs/heads/main"), commit: None, subject: "sha256:89cfc6954e88b2f92a7c2879d9eb085c42f3c7065d012a5066f450dbe59b2c00" },
    Expect { file: "slsa-provenance/untrusted-builder.intoto.jsonl", builder: "https://github.com/asraa/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v1.4.0", source: "github.com/asraa/slsa-on-github-test", git_ref: Some("refs/heads/main"), commit: None, subject: "sha256:b01c4f22b92c57fe1c94ba99b568e8d704bbf544882784b5b8c765fc32e627c4" },
    Expect { file: "slsa-provenance/bcr-MODULE.bazel.sigstore.json", builder: "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1", source: "github.com/aspect-build/rules_lint", git_ref: Some("refs/heads/publish-to-bcr"), commit: Some("8f70009fde0c94ade6ce2a054b94718c819126ec"), subject: "sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b" },
    Expect { file: "slsa-provenance/gcb/v0.2/gcloud-container-github.json", builder: "https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.2", source: "github.com/laurentsimon/gcb-tests", git_ref: None, commit: Some("fbbb98765e85ad464302dc5977968104d36e455e"), subject: "sha256:1a033b002f89ed2b8ea733162497fb70f1a4049a7f8602d6a33682b4ad9921fd" },
];

#[test]
fn provenance_vectors_decode_to_their_stated_values() {
    for e in PROVENANCE {
        let items = fixture(e.file);
        let item = items
            .iter()
            .find(|i| i.kind == Kind::Provenance)
            .unwrap_or_else(|| panic!("{}: no provenance in {items:?}", e.file));
        let p = item.provenance.as_ref().expect("decoded");
        assert_eq!(p.builder_id, e.builder, "{}", e.file);
        assert_eq!(p.source_repo.as_deref(), Some(e.source), "{}", e.file);
        if let Some(r) = e.git_ref {
            assert_eq!(p.git_ref.as_deref(), Some(r), "{}", e.file);
        }
        if let Some(c) = e.commit {
            assert_eq!(p.commit.as_deref(), Some(c), "{}", e.file);
        }
        let raw = item.raw.as_ref().expect("raw statement");
        let subjects: Vec<String> = raw["subject"]
            .as_array()
            .expect("subjects")
            .iter()
            .map(|s| format!("sha256:{}", s["digest"]["sha256"].as_str().unwrap_or("")))
            .collect();
        assert!(
            subjects.iter().any(|s| s == e.subject),
            "{}: {subjects:?}",
            e.file
        );
        assert!(p.sentence().starts_with("Built by "), "{}", e.file);
    }
}

#[test]
fn the_multi_subject_statement_names_three_artifacts() {
    let items = fixture("slsa-provenance/multi-subject.intoto.jsonl");
    let raw = items[0].raw.as_ref().expect("raw");
    assert_eq!(raw["subject"].as_array().map(|a| a.len()), Some(3));
}

#[test]
fn cloud_build_output_with_a_mismatched_image_digest_describes_another_artifact() {
    let ok = fixture("slsa-provenance/gcb/v0.2/gcloud-container-github.json");
    assert_eq!(ok[0].binding, Binding::Matches);
    let bad = fixture("slsa-provenance/gcb/v0.2/gcloud-container-mismatch-summary-digest.json");
    assert!(
        matches!(bad[0].binding, Binding::DescribesOther(_)),
        "{:?}",
        bad[0].binding
    );
    assert!(!bad[0].usable());
}

#[test]
fn a_bare_predicate_parses_as_slsa() {
    let items = fixture("slsa-provenance/predicate-only/slsa_predicate_v1_0.json");
    assert_eq!(items[0].kind, Kind::Provenance, "{:?}", items[0].problem);
    assert!(!items[0]
        .provenance
        .as_ref()
        .expect("p")
        .builder_id
        .is_empty());
}

#[test]
fn sbom_vectors_give_their_stated_counts() {
    let cases: &[(&str, &str, &str, usize)] = &[
        ("sbom/cyclonedx/valid-bom-1.4.json", "CycloneDX", "1.4", 2),
        ("sbom/cyclonedx/valid-bom-1.5.json", "CycloneDX", "1.5", 2),
        ("sbom/cyclonedx/valid-bom-1.6.json", "CycloneDX", "1.6", 3),
        (
            "sbom/cyclonedx/valid-attestation-1.6.json",
            "CycloneDX",
            "1.6",
            0,
        ),
        (
            "sbom/cyclonedx/valid-formulation-1.6.json",
            "CycloneDX",
            "1.6",
            1,
        ),
        (
            "sbom/cyclonedx/valid-vulnerability-1.5.json",
            "CycloneDX",
            "1.5",
            1,
        ),
        (
            "sbom/cyclonedx/cern-lhc-vdm-editor-bom.json",
            "CycloneDX",
            "1.2",
            43,
        ),
        (
            "sbom/cyclonedx/laravel-7.12.0-bom.1.4.json",
            "CycloneDX",
            "1.4",
            62,
        ),
        (
            "sbom/cyclonedx/cosign-empty-bom.cyclonedx.json",
            "CycloneDX",
            "1.4",
            0,
        ),
        (
            "sbom/spdx/example10-hello-source.spdx.json",
            "SPDX",
            "2.3",
            1,
        ),
        (
            "sbom/spdx/example8-examplemaven-0.0.1.spdx.json",
            "SPDX",
            "2.3",
            6,
        ),
        (
            "sbom/spdx/oss-na-2023-04-SBOMwSecurity.json",
            "SPDX",
            "2.3",
            2,
        ),
        ("sbom/spdx/example7-bin.spdx.json", "SPDX", "2.2", 1),
        ("sbom/spdx/cosign-empty-bom.spdx.json", "SPDX", "2.2", 0),
    ];
    for (file, format, version, count) in cases {
        let items = fixture(file);
        let s = items[0]
            .sbom
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: {:?}", items[0].problem));
        assert_eq!(
            (s.format.as_str(), s.version.as_str(), s.package_count),
            (*format, *version, *count),
            "{file}"
        );
    }
    let laravel = fixture("sbom/cyclonedx/laravel-7.12.0-bom.1.4.json");
    assert_eq!(
        laravel[0].sbom.as_ref().expect("s").ecosystems[0],
        ("composer".to_string(), 62)
    );
}

#[test]
fn invalid_and_unsupported_sboms_are_named_not_summarised() {
    for (file, kind) in [
        ("sbom/cyclonedx/invalid-bomformat-1.6.json", Kind::Invalid),
        ("sbom/cyclonedx/invalid-dependency-1.5.json", Kind::Invalid),
        (
            "sbom/spdx/example12-hello-dist.spdx3.json",
            Kind::Unsupported,
        ),
    ] {
        let items = fixture(file);
        assert_eq!(items[0].kind, kind, "{file}");
        assert!(
            items[0].sbom.is_none() && items[0].problem.is_some(),
            "{file}"
        );
    }
}

#[test]
fn the_cosign_oci_attestation_bundle_binds_its_image() {
    let items = fixture("cosign/oci-attestation.sigstore.json");
    let raw = items[0].raw.as_ref().expect("statement");
    assert_eq!(
        raw["predicateType"],
        "https://cosign.sigstore.dev/attestation/v1"
    );
    assert_eq!(
        raw["subject"][0]["digest"]["sha256"],
        "732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"
    );
}
