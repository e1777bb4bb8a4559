//! Credentials found where docker, skopeo and cosign find them, against a registry with
//! htpasswd basic auth.

mod common;

use base64::Engine as _;
use common::*;
use std::os::unix::fs::PermissionsExt;

fn write_docker_config(home: &std::path::Path, json: serde_json::Value) {
    let dir = home.join(".docker");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_vec(&json).expect("json"),
    )
    .expect("write");
}

fn push_one(reg: &Registry, user: &str, pass: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = demo_layout(tmp.path());
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        &format!("{user}:{pass}"),
        &format!("oci:{}:acme/api:prod", layout.display()),
        &format!("docker://{}/acme/api:prod", reg.host),
    ]);
}

#[test]
fn basic_auth_from_docker_config_auths() {
    let reg = Registry::start_with("", Some(("alice", "s3cret-pass")));
    push_one(&reg, "alice", "s3cret-pass");
    let home = tempfile::tempdir().expect("home");
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pass");
    write_docker_config(
        home.path(),
        serde_json::json!({"auths": {reg.host.clone(): {"auth": auth}}}),
    );
    let out = run_provost(
        home.path(),
        &[
            "--insecure-registry",
            &reg.host,
            "ls",
            &format!("{}/acme/api", reg.host),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"prod\""));
    let out = run_provost(
        home.path(),
        &[
            "--insecure-registry",
            &reg.host,
            "inspect",
            &format!("{}/acme/api:prod", reg.host),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Layers"));
}

#[test]
fn a_wrong_or_missing_password_is_a_clear_error_that_never_prints_the_secret() {
    let reg = Registry::start_with("", Some(("alice", "s3cret-pass")));
    let home = tempfile::tempdir().expect("home");
    let out = run_provost(
        home.path(),
        &["--insecure-registry", &reg.host, "ls", &reg.host],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no credential is configured"),
        "{}",
        stderr(&out)
    );

    let auth = base64::engine::general_purpose::STANDARD.encode("alice:wrong-horse-battery");
    write_docker_config(
        home.path(),
        serde_json::json!({"auths": {reg.host.clone(): {"auth": auth}}}),
    );
    let out = run_provost(
        home.path(),
        &["--insecure-registry", &reg.host, "ls", &reg.host],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("credentials rejected") && err.contains("alice"),
        "{err}"
    );
    assert!(
        !err.contains("wrong-horse-battery") && !err.contains(&auth),
        "the secret leaked: {err}"
    );
}

#[test]
fn credentials_from_a_credential_helper() {
    let reg = Registry::start_with("", Some(("bob", "helper-pass")));
    push_one(&reg, "bob", "helper-pass");
    let home = tempfile::tempdir().expect("home");
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let helper = bin.join("docker-credential-provosttest");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"bob\",\"Secret\":\"helper-pass\"}' \"$server\"\n",
    )
    .expect("write helper");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    write_docker_config(
        home.path(),
        serde_json::json!({"credHelpers": {reg.host.clone(): "provosttest"}}),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = provost()
        .args([
            "--insecure-registry",
            &reg.host,
            "ls",
            &format!("{}/acme/api", reg.host),
        ])
        .env("HOME", home.path())
        .env("PATH", path)
        .env_remove("DOCKER_CONFIG")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("prod"));
}
