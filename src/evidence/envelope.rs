//! DSSE envelopes, in-toto statements and Sigstore bundles: unwrapping a document down to the
//! statement it carries. Nothing here verifies a signature; `verify/` does that.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The in-toto payload type inside DSSE envelopes.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload_type: String,
    pub payload: String,
    #[serde(default)]
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    pub sig: String,
}

impl Envelope {
    /// The decoded payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, String> {
        decode_b64(&self.payload).map_err(|e| format!("DSSE payload is not base64: {e}"))
    }
}

/// DSSE's pre-authentication encoding: what a DSSE signature signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Standard or URL-safe base64, padded or not (producers differ).
pub fn decode_b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = s.trim();
    STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| URL_SAFE_NO_PAD.decode(s))
}

/// A subject of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub digest: std::collections::BTreeMap<String, String>,
}

impl Subject {
    /// The subject's digest as `sha256:<hex>`, when it has one.
    pub fn sha256(&self) -> Option<String> {
        self.digest
            .get("sha256")
            .map(|h| format!("sha256:{}", h.to_lowercase()))
    }
}

/// An in-toto statement (v0.1 or v1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    #[serde(default)]
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: Value,
}

impl Statement {
    /// Parses and checks the statement type.
    pub fn parse(bytes: &[u8]) -> Result<Statement, super::EvidenceError> {
        Self::parse_text(bytes).map_err(super::EvidenceError::Statement)
    }

    fn parse_text(bytes: &[u8]) -> Result<Statement, String> {
        let s: Statement =
            serde_json::from_slice(bytes).map_err(|e| format!("not an in-toto statement: {e}"))?;
        if !s
            .statement_type
            .starts_with("https://in-toto.io/Statement/")
        {
            return Err(format!("unknown statement type {:?}", s.statement_type));
        }
        Ok(s)
    }

    /// True when one of the subjects has `digest` (`sha256:<hex>`).
    pub fn binds(&self, digest: &str) -> bool {
        self.subject
            .iter()
            .any(|s| s.sha256().as_deref() == Some(digest))
    }

    /// The subject digests, for messages.
    pub fn subject_digests(&self) -> Vec<String> {
        self.subject.iter().filter_map(Subject::sha256).collect()
    }
}

/// What a Sigstore bundle carries.
#[derive(Debug, Clone, PartialEq)]
pub enum BundleContent {
    Dsse(Envelope),
    /// A message signature over an artifact digest.
    MessageSignature {
        digest: Option<String>,
    },
}

/// The parts of a Sigstore bundle provost reads for evidence (verification reads the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub media_type: String,
    pub content: BundleContent,
    /// The signing certificate (DER, base64) when there is one.
    pub certificate: Option<String>,
    pub public_key_hint: Option<String>,
}

/// True for any spelling of a Sigstore bundle media type.
pub fn is_bundle_media_type(mt: &str) -> bool {
    mt.starts_with("application/vnd.dev.sigstore.bundle")
}

/// Parses a Sigstore bundle v0.1-v0.3.
/// The Sigstore bundle media type provost writes (v0.3).
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A Sigstore bundle v0.3 holding a message signature made with a managed key: `sha256` is the
/// digest of the signed bytes, `signature_b64` the signature, `key_hint` names the key, and
/// `timestamps_b64` are RFC 3161 responses over the signature (none: no timestamp data). No log
/// entries.
pub fn key_message_bundle(
    sha256: &[u8],
    signature_b64: &str,
    key_hint: &str,
    timestamps_b64: &[String],
) -> Value {
    let mut material = serde_json::json!({"publicKey": {"hint": key_hint}, "tlogEntries": []});
    if !timestamps_b64.is_empty() {
        material["timestampVerificationData"] = timestamp_data(timestamps_b64);
    }
    serde_json::json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": material,
        "messageSignature": message_signature(sha256, signature_b64),
    })
}

/// A bundle's `messageSignature`: the SHA-256 of the signed bytes and the signature.
pub fn message_signature(sha256: &[u8], signature_b64: &str) -> Value {
    use base64::Engine as _;
    serde_json::json!({
        "messageDigest": {
            "algorithm": "SHA2_256",
            "digest": base64::engine::general_purpose::STANDARD.encode(sha256),
        },
        "signature": signature_b64,
    })
}

/// A bundle's `timestampVerificationData` for RFC 3161 responses (base64 DER).
pub fn timestamp_data(timestamps_b64: &[String]) -> Value {
    serde_json::json!({
        "rfc3161Timestamps": timestamps_b64
            .iter()
            .map(|t| serde_json::json!({"signedTimestamp": t}))
            .collect::<Vec<_>>()
    })
}

pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle, super::EvidenceError> {
    parse_bundle_text(bytes).map_err(super::EvidenceError::Bundle)
}

fn parse_bundle_text(bytes: &[u8]) -> Result<Bundle, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let media_type = v["mediaType"].as_str().unwrap_or_default().to_string();
    if !is_bundle_media_type(&media_type) {
        return Err(format!("not a Sigstore bundle (mediaType {media_type:?})"));
    }
    let vm = &v["verificationMaterial"];
    let certificate = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .map(str::to_string);
    let public_key_hint = vm["publicKey"]["hint"].as_str().map(str::to_string);
    let content = if let Some(env) = v.get("dsseEnvelope") {
        BundleContent::Dsse(
            serde_json::from_value(env.clone()).map_err(|e| format!("bad dsseEnvelope: {e}"))?,
        )
    } else if let Some(ms) = v.get("messageSignature") {
        let digest = ms["messageDigest"]["digest"]
            .as_str()
            .and_then(|d| decode_b64(d).ok())
            .map(|b| format!("sha256:{}", hex::encode(b)));
        BundleContent::MessageSignature { digest }
    } else {
        return Err("bundle has neither dsseEnvelope nor messageSignature".into());
    };
    Ok(Bundle {
        media_type,
        content,
        certificate,
        public_key_hint,
    })
}

/// Unwraps a DSSE envelope to its in-toto statement.
pub fn statement_from_envelope(env: &Envelope) -> Result<Statement, super::EvidenceError> {
    if env.payload_type != INTOTO_PAYLOAD_TYPE {
        return Err(super::EvidenceError::Envelope(format!(
            "DSSE payload type {:?} is not in-toto",
            env.payload_type
        )));
    }
    let payload = env
        .payload_bytes()
        .map_err(|e| super::EvidenceError::Envelope(e.to_string()))?;
    Statement::parse(&payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn statement_binding() {
        let s = Statement::parse(br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"AB"}}],"predicateType":"p","predicate":{}}"#).expect("statement");
        assert!(s.binds("sha256:ab"));
        assert!(!s.binds("sha256:cd"));
        assert!(Statement::parse(br#"{"_type":"nope","predicateType":"p"}"#).is_err());
    }
}
