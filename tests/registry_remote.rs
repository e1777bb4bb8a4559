//! RemoteStore against a real registry, with skopeo as the independent client.

mod common;

use common::*;
use provost::oci::{digest, OciError, Store};

#[test]
fn images_provost_pushes_read_back_through_skopeo_with_the_same_digest() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    let n = rt
        .block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed into the registry");
    assert!(n >= 12, "at least 12 digests, got {n}");
    for (repo, tag) in [
        ("acme/api", "prod"),
        ("acme/web", "2.2.0"),
        ("acme/billing", "dev"),
    ] {
        let ours = rt.block_on(s.resolve(repo, tag)).expect("resolve");
        let raw = skopeo(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/{repo}:{tag}", reg.host),
        ]);
        assert_eq!(digest::sha256(&raw.stdout), ours, "{repo}:{tag}");
    }
    // The multi-platform index really is one, and skopeo resolves its arm64 image.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/acme/web:2.2.0", reg.host),
    ]);
    let index: serde_json::Value = serde_json::from_slice(&raw.stdout).expect("json");
    assert_eq!(index["manifests"].as_array().map(|a| a.len()), Some(2));
    let arm = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--override-arch",
        "arm64",
        &format!("docker://{}/acme/web:2.2.0", reg.host),
    ]);
    let arm: serde_json::Value = serde_json::from_slice(&arm.stdout).expect("json");
    assert_eq!(arm["Architecture"], "arm64");
}

#[test]
fn images_skopeo_pushes_list_and_inspect_in_provost_and_back_into_a_layout() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = demo_layout(tmp.path());
    let src = format!("oci:{}:acme/web:2.2.0", layout.display());
    skopeo(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &src,
        &format!("docker://{}/mirror/web:2.2.0", reg.host),
    ]);
    let src = format!("oci:{}:acme/api:prod", layout.display());
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &src,
        &format!("docker://{}/mirror/api:prod", reg.host),
    ]);

    let home = tmp.path().join("home");
    let insecure = ["--insecure-registry", reg.host.as_str()];
    let out = run_provost(
        &home,
        &[&insecure[..], &["ls", &reg.host, "--json"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let repos: Vec<String> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(repos, vec!["mirror/api", "mirror/web"]);

    let out = run_provost(
        &home,
        &[
            &insecure[..],
            &[
                "inspect",
                &format!("{}/mirror/web:2.2.0", reg.host),
                "--json",
            ],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let art: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/mirror/web:2.2.0", reg.host),
    ]);
    assert_eq!(art["digest"], digest::sha256(&raw.stdout));
    let platforms: Vec<&str> = art["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .filter_map(|p| p["platform"].as_str())
        .collect();
    assert_eq!(platforms, vec!["linux/amd64", "linux/arm64/v8"]);

    // And the other way: skopeo pulls from the registry into a new layout that provost opens.
    let back = tmp.path().join("pulled");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{}/mirror/api:prod", reg.host),
        &format!("oci:{}:mirror/api:prod", back.display()),
    ]);
    let out = run_provost(
        &home,
        &[
            "--store",
            back.to_str().expect("utf8"),
            "inspect",
            "mirror/api:prod",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let pulled: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(pulled["layers"].as_array().map(|l| l.len()), Some(2));
    assert_eq!(pulled["platform"], "linux/amd64");
}

#[test]
fn a_blob_corrupted_on_the_registry_disk_is_refused_with_a_digest_mismatch() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let fetched = rt
        .block_on(s.get_manifest("acme/api", "1.4.2"))
        .expect("manifest");
    let m: serde_json::Value = serde_json::from_slice(&fetched.bytes).expect("json");
    let layer = m["layers"][1]["digest"]
        .as_str()
        .expect("layer")
        .to_string();
    let config = m["config"]["digest"].as_str().expect("config").to_string();
    for d in [&layer, &config] {
        let p = reg.blob_path(d);
        let mut bytes = std::fs::read(&p).expect("blob on disk");
        bytes[10] ^= 0xff;
        std::fs::write(&p, bytes).expect("corrupt");
    }
    let err = rt
        .block_on(s.get_blob("acme/api", &layer, 1 << 20))
        .expect_err("corrupt blob must be refused");
    assert!(matches!(err, OciError::DigestMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&layer) && msg.contains(&reg.host), "{msg}");

    // The CLI refuses the artifact whose config is corrupt, with the integrity exit code.
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_provost(
        tmp.path(),
        &[
            "--insecure-registry",
            &reg.host,
            "inspect",
            &format!("{}/acme/api:1.4.2", reg.host),
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));
}

#[test]
fn a_manifest_corrupted_on_disk_is_refused() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let d = rt
        .block_on(s.resolve("acme/worker", "prod"))
        .expect("resolve");
    let p = reg.blob_path(&d);
    let text = std::fs::read_to_string(&p)
        .expect("manifest on disk")
        .replace("worker", "wurker");
    std::fs::write(&p, text).expect("corrupt");
    let err = rt
        .block_on(s.get_manifest("acme/worker", &d))
        .expect_err("must be refused");
    assert!(matches!(err, OciError::DigestMismatch { .. }), "{err}");
}

#[test]
fn catalogs_over_200_repositories_and_tag_lists_over_1000_list_completely_and_sorted() {
    // A page size of 100 makes the registry paginate the catalog with Link headers.
    let reg = Registry::start_with("catalog: {maxentries: 100}", None);
    let rt = runtime();
    let s = store(&reg);
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let mut expected_repos: Vec<String> = (0..230)
        .map(|i| format!("team{}/svc-{i:03}", i % 7))
        .collect();
    let manifest = rt.block_on(async {
        let mut manifest = Vec::new();
        for repo in &expected_repos {
            let cd = s.put_blob(repo, config).await.expect("config");
            manifest = serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
                "layers": []
            }))
            .expect("json");
            s.put_manifest(repo, Some("v1"), "application/vnd.oci.image.manifest.v1+json", &manifest).await.expect("manifest");
        }
        manifest
    });
    expected_repos.sort();
    let repos = rt.block_on(s.list_repositories()).expect("catalog");
    assert_eq!(repos, expected_repos);

    let many = "team0/svc-000";
    let mut expected_tags: Vec<String> = (0..1050)
        .map(|i| format!("build-{}", 7919 * i % 10007))
        .collect();
    rt.block_on(async {
        use futures::StreamExt;
        futures::stream::iter(expected_tags.clone())
            .for_each_concurrent(8, |t| {
                let s = &s;
                let manifest = &manifest;
                async move {
                    s.put_manifest(
                        many,
                        Some(&t),
                        "application/vnd.oci.image.manifest.v1+json",
                        manifest,
                    )
                    .await
                    .expect("tag");
                }
            })
            .await;
    });
    expected_tags.push("v1".into());
    expected_tags.sort();
    let tags = rt.block_on(s.list_tags(many)).expect("tags");
    assert_eq!(tags.len(), 1051);
    assert_eq!(tags, expected_tags);
}

#[test]
fn delete_by_digest_removes_the_manifest() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    rt.block_on(provost::demo::seed(&s, demo_keys()))
        .expect("seed");
    let d = rt
        .block_on(s.resolve("acme/api", "1.2.0"))
        .expect("resolve");
    rt.block_on(s.delete_manifest("acme/api", &d))
        .expect("delete");
    let err = rt
        .block_on(s.get_manifest("acme/api", &d))
        .expect_err("gone");
    assert!(err.is_not_found(), "{err}");
    assert!(matches!(
        rt.block_on(s.delete_manifest("acme/api", "sha256:nope")),
        Err(OciError::InvalidDigest(_))
    ));
}

#[test]
fn hostile_annotations_print_inert() {
    let reg = Registry::start();
    let rt = runtime();
    let s = store(&reg);
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    rt.block_on(async {
        let cd = s.put_blob("evil/app", config).await.expect("config");
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
            "layers": [],
            "annotations": {"org.opencontainers.image.description": "ok\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}gotcha"}
        }))
        .expect("json");
        s.put_manifest("evil/app", Some("v1"), "application/vnd.oci.image.manifest.v1+json", &manifest).await.expect("push");
    });
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_provost(
        tmp.path(),
        &[
            "--insecure-registry",
            &reg.host,
            "inspect",
            &format!("{}/evil/app:v1", reg.host),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("gotcha"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "escape sequences reached the terminal"
    );
}

#[test]
fn a_stopped_registry_is_a_clear_transport_error() {
    let mut reg = Registry::start();
    let host = reg.host.clone();
    reg.stop();
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_provost(tmp.path(), &["--insecure-registry", &host, "ls", &host]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot reach {host}")),
        "{}",
        stderr(&out)
    );
}
