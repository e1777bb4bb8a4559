//! Signing keys: PKCS#8 PEM, SEC1 `EC PRIVATE KEY`, and cosign's encrypted format
//! (`ENCRYPTED SIGSTORE PRIVATE KEY`: scrypt-derived key, NaCl secretbox over PKCS#8 DER), so a
//! team's existing cosign keys work. Key material is zeroized when dropped and never logged.

use base64::Engine as _;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use p256::ecdsa::SigningKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// PEM labels cosign has used for encrypted keys.
const ENCRYPTED_LABELS: [&str; 2] = [
    "ENCRYPTED SIGSTORE PRIVATE KEY",
    "ENCRYPTED COSIGN PRIVATE KEY",
];

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

#[derive(Serialize, Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// True when the PEM text is a cosign encrypted key (so a passphrase is needed).
pub fn is_encrypted(pem_text: &str) -> bool {
    ENCRYPTED_LABELS
        .iter()
        .any(|l| pem_text.contains(&format!("BEGIN {l}")))
}

fn derive(passphrase: &[u8], kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>, String> {
    if kdf.name != "scrypt" {
        return Err(format!("unsupported key derivation {:?}", kdf.name));
    }
    let log_n = (63 - kdf.params.n.leading_zeros()) as u8;
    if 1u64 << log_n != kdf.params.n || log_n > 20 {
        return Err(format!("unsupported scrypt N {}", kdf.params.n));
    }
    let params =
        scrypt::Params::new(log_n, kdf.params.r, kdf.params.p, 32).map_err(|e| e.to_string())?;
    let salt = b64().decode(&kdf.salt).map_err(|e| format!("salt: {e}"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase, &salt, &params, out.as_mut()).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Reads a private key; `passphrase` is asked for only when the key is encrypted.
pub fn load_signing_key(
    pem_text: &str,
    passphrase: impl FnOnce() -> Result<Zeroizing<String>, super::VerifyError>,
) -> Result<SigningKey, super::VerifyError> {
    load_key_text(pem_text, || passphrase().map_err(|e| e.to_string()))
        .map_err(super::VerifyError::Key)
}

fn load_key_text(
    pem_text: &str,
    passphrase: impl FnOnce() -> Result<Zeroizing<String>, String>,
) -> Result<SigningKey, String> {
    let block = pem::parse(pem_text.trim()).map_err(|e| format!("not a PEM private key: {e}"))?;
    match block.tag() {
        "PRIVATE KEY" => SigningKey::from_pkcs8_der(block.contents())
            .map_err(|e| format!("PKCS#8 key: {e} (provost signs with ECDSA P-256 keys)")),
        "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(block.contents())
            .map(SigningKey::from)
            .map_err(|e| format!("EC key: {e}")),
        label if ENCRYPTED_LABELS.contains(&label) => {
            let enc: EncryptedKey = serde_json::from_slice(block.contents())
                .map_err(|e| format!("encrypted key: {e}"))?;
            if enc.cipher.name != "nacl/secretbox" {
                return Err(format!("unsupported cipher {:?}", enc.cipher.name));
            }
            let pass = passphrase()?;
            let key = derive(pass.as_bytes(), &enc.kdf)?;
            let nonce = b64()
                .decode(&enc.cipher.nonce)
                .map_err(|e| format!("nonce: {e}"))?;
            if nonce.len() != 24 {
                return Err("the nonce is not 24 bytes".into());
            }
            let ct = b64()
                .decode(&enc.ciphertext)
                .map_err(|e| format!("ciphertext: {e}"))?;
            let cipher = XSalsa20Poly1305::new(key.as_ref().into());
            let der = Zeroizing::new(
                cipher
                    .decrypt(Nonce::from_slice(&nonce), ct.as_ref())
                    .map_err(|_| "wrong passphrase, or the key file is damaged".to_string())?,
            );
            SigningKey::from_pkcs8_der(&der).map_err(|e| format!("decrypted key: {e}"))
        }
        other => Err(format!(
            "unsupported PEM block {other:?} (expected a private key)"
        )),
    }
}

/// The public key of a signing key, as PEM SPKI (`cosign.pub`).
pub fn public_pem(key: &SigningKey) -> Result<String, super::VerifyError> {
    key.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| super::VerifyError::Key(e.to_string()))
}

/// The fingerprint provost shows for a PEM public key (SHA-256 of its DER SPKI, hex).
pub fn fingerprint_of_pem(pem_text: &str) -> Option<String> {
    sigstore_verify::types::DerPublicKey::from_pem(pem_text)
        .ok()
        .map(|k| super::key_fingerprint(k.as_bytes()))
}

/// A new random P-256 key.
pub fn generate() -> SigningKey {
    SigningKey::random(&mut rand_core::OsRng)
}

/// The key encrypted in cosign's format with `passphrase`.
pub fn encrypt_cosign(key: &SigningKey, passphrase: &str) -> Result<String, super::VerifyError> {
    encrypt_text(key, passphrase).map_err(super::VerifyError::Key)
}

fn encrypt_text(key: &SigningKey, passphrase: &str) -> Result<String, String> {
    use rand_core::RngCore;
    let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut salt);
    rand_core::OsRng.fill_bytes(&mut nonce);
    let kdf = Kdf {
        name: "scrypt".into(),
        params: ScryptParams {
            n: 32768,
            r: 8,
            p: 1,
        },
        salt: b64().encode(salt),
    };
    let k = derive(passphrase.as_bytes(), &kdf)?;
    let cipher = XSalsa20Poly1305::new(k.as_ref().into());
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), der.as_bytes())
        .map_err(|_| "encryption failed".to_string())?;
    let doc = EncryptedKey {
        kdf,
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: b64().encode(nonce),
        },
        ciphertext: b64().encode(ct),
    };
    let json = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
    Ok(pem::encode(&pem::Pem::new(ENCRYPTED_LABELS[0], json)))
}

/// The passphrase from `PROVOST_PASSWORD` or `COSIGN_PASSWORD`, else a prompt on the terminal.
pub fn passphrase(prompt: &str) -> Result<Zeroizing<String>, super::VerifyError> {
    for var in ["PROVOST_PASSWORD", "COSIGN_PASSWORD"] {
        if let Ok(p) = std::env::var(var) {
            return Ok(Zeroizing::new(p));
        }
    }
    crate::oci::budget::paused(|| rpassword::prompt_password(prompt))
        .map(Zeroizing::new)
        .map_err(|e| {
            super::VerifyError::Passphrase(format!(
                "cannot read a passphrase ({e}); set PROVOST_PASSWORD"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_format_round_trips_and_refuses_a_wrong_passphrase() {
        let k = generate();
        let pem = encrypt_cosign(&k, "correct horse").expect("encrypt");
        assert!(is_encrypted(&pem));
        let back =
            load_signing_key(&pem, || Ok(Zeroizing::new("correct horse".into()))).expect("decrypt");
        assert_eq!(back.verifying_key(), k.verifying_key());
        let err = load_signing_key(&pem, || Ok(Zeroizing::new("wrong".into())))
            .expect_err("wrong passphrase");
        assert!(err.to_string().contains("wrong passphrase"));
        let pkcs8 = k.to_pkcs8_pem(LineEnding::LF).expect("pem");
        let plain = load_signing_key(&pkcs8, || {
            Err(crate::verify::VerifyError::Passphrase(
                "no prompt for plain keys".into(),
            ))
        })
        .expect("plain");
        assert_eq!(plain.verifying_key(), k.verifying_key());
        assert!(public_pem(&k)
            .expect("pub")
            .starts_with("-----BEGIN PUBLIC KEY-----"));
    }
}
