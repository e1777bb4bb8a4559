//! `provost sign`, `provost attest`, `provost keygen`: cosign-compatible signing with local keys.

use crate::setup::Settings;
use crate::verify::keys;
use color_eyre::eyre::{eyre, Result, WrapErr};
use p256::ecdsa::SigningKey;

/// provost's own write to `repo` (and to the cosign repository) makes the cached tag pointers
/// of those repositories stale: forget them, so the next gate sees the write.
fn invalidate_cache(source: &crate::setup::NamedSource, repo: &str) {
    use crate::oci::Store;
    if let Some(dir) = crate::config::paths::cache_dir() {
        let name = source.store.name();
        crate::oci::disk::invalidate(&dir, name, repo);
        if let Some(c) = super::evidence::cosign_repository() {
            crate::oci::disk::invalidate(&dir, name, &c);
        }
    }
}

/// Reads a private key; a missing, unreadable or malformed key file is a usage error (exit 2).
pub(crate) fn load_key(path: &str) -> Result<SigningKey> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        eyre!(super::exit::Usage(format!(
            "reading the key {}: {e}",
            crate::text::sanitize(path)
        )))
    })?);
    keys::load_signing_key(&text, || {
        keys::passphrase(&format!("Passphrase for {path}: "))
    })
    .map_err(|e| {
        eyre!(super::exit::Usage(format!(
            "{}: {e}",
            crate::text::sanitize(path)
        )))
    })
}

/// `provost sign REF --key KEY`.
pub async fn sign_cmd(
    settings: &Settings,
    reference: &str,
    key_path: &str,
    bundle: bool,
    timestamp_url: Option<&str>,
) -> Result<()> {
    let key = load_key(key_path)?;
    let (r, source, digest) = super::resolve_ref(settings, reference).await?;
    let docker_reference = if r.registry.is_empty() {
        r.repository.clone()
    } else {
        format!("{}/{}", r.registry, r.repository)
    };
    let (payload, sig) = crate::release::sign::simple_signature(&docker_reference, &digest, &key);
    // Timestamps and the bundle (the only calls to another service) come first, so a failing
    // timestamp authority leaves the image as it was.
    let stamp = match timestamp_url {
        Some(url) => Some(
            crate::release::sign::timestamp(url, &sig)
                .await
                .map_err(|e| eyre!("timestamping the signature of {r}: {e}"))?,
        ),
        None => None,
    };
    let bundle = match (bundle, timestamp_url) {
        (true, Some(url)) => Some(
            crate::release::sign::key_signed_bundle(&digest, &key, Some(url))
                .await
                .map_err(|e| eyre!("making the Sigstore bundle for {r}: {e}"))?,
        ),
        _ => None,
    };
    let m = crate::release::sign::write_signature(
        source.store.as_ref(),
        &r.repository,
        &digest,
        &payload,
        &sig,
        stamp.as_deref(),
    )
    .await
    .wrap_err_with(|| format!("signing {r}"))?;
    invalidate_cache(&source, &r.repository);
    crate::say!(
        "signed {}@{digest} ({} at {}{})",
        r.repository,
        crate::oci::digest::short(&m),
        crate::evidence::discover::cosign_tag(&digest, "sig"),
        if stamp.is_some() { ", timestamped" } else { "" }
    );
    if let Some(bundle) = bundle {
        let b = crate::release::sign::attach_bundle(
            source.store.as_ref(),
            &r.repository,
            &digest,
            &bundle,
        )
        .await
        .wrap_err_with(|| format!("storing the Sigstore bundle for {r}"))?;
        crate::say!(
            "stored a Sigstore bundle (timestamped) as a referrer of {}@{digest} ({})",
            r.repository,
            crate::oci::digest::short(&b)
        );
    }
    Ok(())
}

/// `provost attest REF --predicate FILE --type URI --key KEY`.
pub async fn attest_cmd(
    settings: &Settings,
    reference: &str,
    predicate: &str,
    predicate_type: &str,
    key_path: &str,
) -> Result<()> {
    let key = load_key(key_path)?;
    let text =
        std::fs::read(predicate).wrap_err_with(|| format!("reading the predicate {predicate}"))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).wrap_err_with(|| format!("{predicate} is not JSON"))?;
    let (r, source, digest) = super::resolve_ref(settings, reference).await?;
    // cosign's shorthands (`slsaprovenance1`, `spdxjson`, …) name their URIs.
    let predicate_type = crate::policy::file::predicate_type(predicate_type);
    crate::release::sign::attest_image(
        source.store.as_ref(),
        &r.repository,
        &digest,
        predicate_type,
        value,
        &key,
    )
    .await
    .wrap_err_with(|| format!("attesting {r}"))?;
    invalidate_cache(&source, &r.repository);
    crate::say!("attested {predicate_type} for {}@{digest}", r.repository);
    Ok(())
}

/// `provost keygen [--output-key-prefix P]`: `P.key` (cosign's encrypted format) and `P.pub`.
pub fn keygen_cmd(prefix: &str) -> Result<()> {
    let (key_path, pub_path) = (format!("{prefix}.key"), format!("{prefix}.pub"));
    for p in [&key_path, &pub_path] {
        if std::path::Path::new(p).exists() {
            return Err(eyre!("{p} already exists; not overwriting it"));
        }
    }
    let pass = keys::passphrase("Passphrase for the new key: ").map_err(|e| eyre!(e))?;
    let key = keys::generate();
    let enc = keys::encrypt_cosign(&key, &pass).map_err(|e| eyre!(e))?;
    let public = keys::public_pem(&key).map_err(|e| eyre!(e))?;
    write_private(&key_path, enc.as_bytes())?;
    std::fs::write(&pub_path, public).wrap_err_with(|| format!("writing {pub_path}"))?;
    crate::say!("Private key written to {key_path}\nPublic key written to {pub_path}");
    Ok(())
}

fn write_private(path: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .wrap_err_with(|| format!("creating {path}"))?;
    f.write_all(bytes)
        .wrap_err_with(|| format!("writing {path}"))
}
