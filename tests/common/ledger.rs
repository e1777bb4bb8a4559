//! Records made by hand, the way a hostile or careless writer with push access could: a
//! signed approval attached to a digest but never linked into the chain, a record with two
//! signatures linked properly. Built from provost's own signing pieces and pushed with the
//! plain `Store` calls, so nothing in the CLI's write path is involved.

use super::runtime;
use provost::oci::media::{self, Descriptor};
use provost::oci::Store;
use provost::release::record::{manifest_for, sign, Draft, Signing};

const EMPTY: &[u8] = b"{}";

fn key_signing(key: &p256::ecdsa::SigningKey) -> Signing<'_> {
    Signing::Key {
        key,
        timestamp_url: None,
        rekor_url: None,
    }
}

/// The bundle of `draft`, signed by every key in `keys` (one DSSE signature each, over the
/// same payload).
pub fn bundle(draft: &Draft, keys: &[&p256::ecdsa::SigningKey]) -> Vec<u8> {
    let rt = runtime();
    let st = draft.statement();
    let mut first: serde_json::Value =
        serde_json::from_slice(&rt.block_on(sign(&st, &key_signing(keys[0]))).expect("sign"))
            .expect("bundle json");
    for k in &keys[1..] {
        let other: serde_json::Value =
            serde_json::from_slice(&rt.block_on(sign(&st, &key_signing(k))).expect("sign"))
                .expect("bundle json");
        let sig = other["dsseEnvelope"]["signatures"][0].clone();
        first["dsseEnvelope"]["signatures"]
            .as_array_mut()
            .expect("signatures")
            .push(sig);
    }
    serde_json::to_vec(&first).expect("bytes")
}

/// Pushes the referrer manifest for `bundle` into the image's repository and lists it in the
/// subject's fallback referrers index. Returns its digest.
pub fn attach(st: &impl Store, draft: &Draft, bundle: &[u8]) -> String {
    let rt = runtime();
    let manifest = manifest_for(&draft.subject, bundle, draft.record.predicate_type());
    rt.block_on(async {
        st.put_blob(&draft.repository, EMPTY).await.expect("empty");
        st.put_blob(&draft.repository, bundle)
            .await
            .expect("bundle");
        let d = st
            .put_manifest(&draft.repository, None, media::OCI_MANIFEST, &manifest)
            .await
            .expect("manifest");
        let entry = Descriptor {
            media_type: media::OCI_MANIFEST.into(),
            digest: d.clone(),
            size: manifest.len() as u64,
            artifact_type: Some(provost::evidence::envelope::BUNDLE_V03.into()),
            ..Default::default()
        };
        provost::evidence::attest::add_to_fallback_index(
            st,
            &draft.repository,
            &draft.subject.digest,
            entry,
        )
        .await
        .expect("fallback index");
        d
    })
}

/// Links `draft` (signed by `keys`) into its chain in `audit` as the new head, tags it as a
/// chain record, and attaches it to the digest: every step a correct writer takes, with a
/// bundle the writer chose. Returns the record's digest.
pub fn link(
    st: &impl Store,
    audit: &str,
    draft: &mut Draft,
    keys: &[&p256::ecdsa::SigningKey],
) -> String {
    let rt = runtime();
    let chain = draft.record.link().chain.clone();
    let head = rt
        .block_on(st.resolve(audit, &format!("head-{chain}")))
        .ok();
    draft.record.link_mut().previous = head;
    let b = bundle(draft, keys);
    let manifest = manifest_for(&draft.subject, &b, draft.record.predicate_type());
    let rec = rt.block_on(async {
        st.put_blob(audit, EMPTY).await.expect("empty");
        st.put_blob(audit, &b).await.expect("bundle");
        let rec = st
            .put_manifest(audit, None, media::OCI_MANIFEST, &manifest)
            .await
            .expect("record");
        st.put_manifest(
            audit,
            Some(&format!("head-{chain}")),
            media::OCI_MANIFEST,
            &manifest,
        )
        .await
        .expect("head");
        st.put_manifest(
            audit,
            Some(&format!(
                "rec-{chain}-{}",
                rec.trim_start_matches("sha256:")
            )),
            media::OCI_MANIFEST,
            &manifest,
        )
        .await
        .expect("record tag");
        rec
    });
    let attached = attach(st, draft, &b);
    assert_eq!(attached, rec, "the same bytes in both places");
    rec
}
