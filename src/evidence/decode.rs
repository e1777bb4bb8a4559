//! Turning one blob or file into evidence items: envelopes, bundles, statements, SBOM
//! documents and cosign simple-signing payloads.

use super::envelope::{self, BundleContent, Envelope, Statement};
use super::{provenance, sbom, Binding, EvidenceItem, Found, Kind};
use serde_json::Value;

/// Media types of cosign's simple-signing payloads.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// DSSE envelope layers (cosign `.att`, referrer artifacts).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Raw in-toto statements (BuildKit attestation layers).
pub const INTOTO_MEDIA_TYPE: &str = "application/vnd.in-toto+json";

/// Where a blob came from and what it should be about.
#[derive(Debug, Clone)]
pub struct Context {
    pub digest: String,
    pub manifest: Option<String>,
    pub found: Found,
    pub location: String,
    /// The digest statements must name; None reads them without binding (local files).
    pub target: Option<String>,
    pub describes: Option<String>,
}

impl Context {
    fn item(&self, kind: Kind, media_type: &str) -> EvidenceItem {
        let mut i = EvidenceItem::problem(
            kind,
            media_type,
            &self.digest,
            self.found,
            &self.location,
            String::new(),
        );
        i.problem = None;
        i.manifest = self.manifest.clone();
        i.describes = self.describes.clone();
        i
    }
    fn problem(&self, kind: Kind, media_type: &str, p: impl Into<String>) -> EvidenceItem {
        let mut i = self.item(kind, media_type);
        i.problem = Some(p.into());
        i
    }
}

/// Decodes an in-toto statement into an item; `signatures` counts the envelope's signatures.
/// The predicate type of the in-toto statement `cosign sign --new-bundle-format` signs (a DSSE
/// bundle standing for an image signature).
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

pub fn statement_item(
    st: Statement,
    ctx: &Context,
    media_type: &str,
    signatures: usize,
) -> EvidenceItem {
    let pt = st.predicate_type.clone();
    let kind = if provenance::is_provenance(&pt) {
        Kind::Provenance
    } else if pt == COSIGN_SIGN_PREDICATE {
        Kind::Signature
    } else if sbom::is_sbom_predicate(&pt) {
        Kind::Sbom
    } else if super::record::is_record(&pt) {
        Kind::Record
    } else {
        Kind::Attestation
    };
    let mut item = ctx.item(kind, media_type);
    item.predicate_type = Some(pt.clone());
    item.signatures = signatures;
    item.signer = if signatures == 0 {
        super::Verification::unsigned()
    } else {
        super::Verification::unchecked()
    };
    let bind_to = ctx.describes.as_ref().or(ctx.target.as_ref());
    item.binding = match bind_to {
        Some(d) if st.binds(d) => Binding::Matches,
        Some(_) => Binding::DescribesOther(st.subject_digests()),
        None => Binding::NotApplicable,
    };
    match kind {
        Kind::Provenance => match provenance::decode(&pt, &st.predicate) {
            Ok(p) => item.provenance = Some(p),
            Err(e) => {
                item.kind = Kind::Invalid;
                item.problem = Some(e.to_string());
            }
        },
        Kind::Sbom => match sbom::summarize(&st.predicate) {
            Ok(s) => item.sbom = Some(s),
            Err(e) => {
                item.kind = if matches!(e, sbom::SbomProblem::Unsupported(_)) {
                    Kind::Unsupported
                } else {
                    Kind::Invalid
                };
                item.problem = Some(e.to_string());
            }
        },
        Kind::Record => match super::record::parse(&pt, &st.predicate) {
            Ok(r) => item.record = Some(r),
            Err(e) => {
                item.kind = Kind::Invalid;
                item.problem = Some(e);
            }
        },
        _ => {}
    }
    item.raw = serde_json::to_value(&st).ok();
    item
}

fn envelope_item(env: &Envelope, ctx: &Context, media_type: &str) -> EvidenceItem {
    match envelope::statement_from_envelope(env) {
        Ok(st) => statement_item(st, ctx, media_type, env.signatures.len()),
        Err(e) => ctx.problem(Kind::Invalid, media_type, e.to_string()),
    }
}

fn sbom_item(doc: &Value, ctx: &Context, media_type: &str) -> EvidenceItem {
    let mut item = ctx.item(Kind::Sbom, media_type);
    item.signer = super::Verification::unsigned();
    match sbom::summarize(doc) {
        Ok(s) => item.sbom = Some(s),
        Err(e) => {
            item.kind = if matches!(e, sbom::SbomProblem::Unsupported(_)) {
                Kind::Unsupported
            } else {
                Kind::Invalid
            };
            item.problem = Some(e.to_string());
        }
    }
    item.raw = Some(doc.clone());
    item
}

/// A cosign simple-signing payload: the signed `docker-manifest-digest` must be the artifact.
fn simple_signing_item(bytes: &[u8], ctx: &Context, media_type: &str) -> EvidenceItem {
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return ctx.problem(
                Kind::Invalid,
                media_type,
                format!("simple-signing payload is not JSON: {e}"),
            )
        }
    };
    let mut item = ctx.item(Kind::Signature, media_type);
    item.predicate_type = v["critical"]["type"].as_str().map(str::to_string);
    let signed = v["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .map(str::to_string);
    item.binding = match (&ctx.target, signed) {
        (Some(t), Some(s)) if *t == s => Binding::Matches,
        (Some(_), Some(s)) => Binding::DescribesOther(vec![s]),
        (Some(_), None) => Binding::DescribesOther(vec![]),
        (None, _) => Binding::NotApplicable,
    };
    item.raw = Some(v);
    item
}

/// Decodes one blob by its media type. Never fails: problems become items.
pub fn decode_blob(bytes: &[u8], media_type: &str, ctx: &Context) -> Vec<EvidenceItem> {
    if media_type == SIMPLE_SIGNING {
        return vec![simple_signing_item(bytes, ctx, media_type)];
    }
    if envelope::is_bundle_media_type(media_type) {
        return match envelope::parse_bundle(bytes) {
            Ok(b) => match &b.content {
                BundleContent::Dsse(env) => vec![envelope_item(env, ctx, media_type)],
                BundleContent::MessageSignature { digest } => {
                    let mut item = ctx.item(Kind::Signature, media_type);
                    item.signatures = 1;
                    item.binding = match (&ctx.target, digest) {
                        (Some(t), Some(d)) if t == d => Binding::Matches,
                        (Some(_), Some(d)) => Binding::DescribesOther(vec![d.clone()]),
                        _ => Binding::NotApplicable,
                    };
                    vec![item]
                }
            },
            Err(e) => vec![ctx.problem(Kind::Invalid, media_type, e.to_string())],
        };
    }
    let json: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return vec![ctx.problem(
                if sbom::is_sbom_media_type(media_type) {
                    Kind::Invalid
                } else {
                    Kind::Unsupported
                },
                media_type,
                format!("not a JSON document ({e})"),
            )]
        }
    };
    if media_type == DSSE_MEDIA_TYPE || json.get("payloadType").is_some() {
        return match serde_json::from_value::<Envelope>(json) {
            Ok(env) => vec![envelope_item(&env, ctx, media_type)],
            Err(e) => vec![ctx.problem(
                Kind::Invalid,
                media_type,
                format!("malformed DSSE envelope: {e}"),
            )],
        };
    }
    if media_type == INTOTO_MEDIA_TYPE || json.get("_type").is_some() {
        return match Statement::parse(bytes) {
            Ok(st) => vec![statement_item(st, ctx, media_type, 0)],
            Err(e) => vec![ctx.problem(Kind::Invalid, media_type, e.to_string())],
        };
    }
    if sbom::is_sbom_media_type(media_type)
        || json.get("spdxVersion").is_some()
        || json.get("bomFormat").is_some()
        || json.get("@graph").is_some()
    {
        return vec![sbom_item(&json, ctx, media_type)];
    }
    let mut other = ctx.problem(
        Kind::Unsupported,
        media_type,
        format!("unrecognised document ({media_type})"),
    );
    other.raw = Some(json);
    vec![other]
}

/// Decodes a local file: a DSSE envelope, a Sigstore bundle, a `.intoto.jsonl` (one envelope
/// per line), a bare statement, a Google Cloud Build provenance listing, a bare SLSA predicate,
/// or an SBOM.
pub fn decode_file(bytes: &[u8], name: &str) -> Vec<EvidenceItem> {
    let ctx = Context {
        digest: crate::oci::digest::sha256(bytes),
        manifest: None,
        found: Found::File,
        location: name.to_string(),
        target: None,
        describes: None,
    };
    let whole: Result<Value, _> = serde_json::from_slice(bytes);
    let Ok(json) = whole else {
        // JSON Lines: one envelope per line.
        let items: Vec<EvidenceItem> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .flat_map(|l| decode_blob(l, DSSE_MEDIA_TYPE, &ctx))
            .collect();
        return if items.is_empty() {
            vec![ctx.problem(
                Kind::Invalid,
                "application/octet-stream",
                "not JSON and not JSON Lines",
            )]
        } else {
            items
        };
    };
    if let Some(mt) = json["mediaType"]
        .as_str()
        .filter(|m| envelope::is_bundle_media_type(m))
    {
        return decode_blob(bytes, mt, &ctx);
    }
    // `gcloud artifacts docker images describe --show-provenance` output.
    if let Some(list) = json["provenance_summary"]["provenance"].as_array() {
        let image = json["image_summary"]["digest"].as_str().map(str::to_string);
        return list
            .iter()
            .map(
                |p| match serde_json::from_value::<Envelope>(p["envelope"].clone()) {
                    Ok(env) => {
                        let c = Context {
                            target: image.clone(),
                            ..ctx.clone()
                        };
                        envelope_item(&env, &c, DSSE_MEDIA_TYPE)
                    }
                    Err(e) => ctx.problem(
                        Kind::Invalid,
                        DSSE_MEDIA_TYPE,
                        format!("Cloud Build provenance without an envelope: {e}"),
                    ),
                },
            )
            .collect();
    }
    // A bare SLSA predicate (no statement around it).
    if json.get("buildDefinition").is_some()
        || (json.get("builder").is_some() && json.get("_type").is_none())
    {
        let pt = if json.get("buildDefinition").is_some() {
            provenance::SLSA_V1
        } else if json.get("recipe").is_some() {
            provenance::SLSA_V01
        } else {
            provenance::SLSA_V02
        };
        let st = Statement {
            statement_type: "https://in-toto.io/Statement/v1".into(),
            subject: vec![],
            predicate_type: pt.into(),
            predicate: json,
        };
        return vec![statement_item(st, &ctx, "application/json", 0)];
    }
    decode_blob(bytes, "application/json", &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn cosign_signing_statements_in_bundles_are_image_signatures() {
        let target = format!("sha256:{}", "ab".repeat(32));
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "registry.example/acme/api", "digest": {"sha256": "ab".repeat(32)}}],
            "predicateType": COSIGN_SIGN_PREDICATE,
            "predicate": {}
        });
        let b64 = base64::engine::general_purpose::STANDARD;
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": []},
            "dsseEnvelope": {
                "payload": b64.encode(statement.to_string()),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": b64.encode(b"not checked here"), "keyid": ""}]
            }
        });
        let ctx = Context {
            digest: "sha256:00".into(),
            manifest: None,
            found: Found::ReferrersTag,
            location: "test".into(),
            target: Some(target.clone()),
            describes: None,
        };
        let items = decode_blob(
            bundle.to_string().as_bytes(),
            "application/vnd.dev.sigstore.bundle.v0.3+json",
            &ctx,
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].kind, Kind::Signature);
        assert_eq!(items[0].binding, Binding::Matches);
        let other = Context {
            target: Some(format!("sha256:{}", "cd".repeat(32))),
            ..ctx
        };
        let items = decode_blob(
            bundle.to_string().as_bytes(),
            "application/vnd.dev.sigstore.bundle.v0.3+json",
            &other,
        );
        assert!(matches!(items[0].binding, Binding::DescribesOther(_)));
    }
}
