//! Registry credentials, found where docker, skopeo and cosign find them, and the HTTP
//! challenge dance (Basic and bearer token) for the requests provost makes itself.

use super::error::{OciError, Result};
use base64::Engine as _;
use docker_credential::{CredentialRetrievalError, DockerCredential};
use std::path::PathBuf;

/// A secret that is wiped from memory when dropped.
pub type Secret = zeroize::Zeroizing<String>;

/// A credential for one registry. Its `Debug` never shows the secret, and the secret's memory
/// is zeroized when the credential is dropped.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Credential {
    #[default]
    Anonymous,
    Basic {
        username: String,
        password: Secret,
    },
    /// An identity (refresh) token, exchanged at the token endpoint.
    IdentityToken(Secret),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Anonymous => write!(f, "Anonymous"),
            Credential::Basic { username, .. } => write!(f, "Basic({username}, ****)"),
            Credential::IdentityToken(_) => write!(f, "IdentityToken(****)"),
        }
    }
}

impl Credential {
    /// A short description for status lines; never includes the secret.
    pub fn describe(&self) -> String {
        match self {
            Credential::Anonymous => "anonymous".into(),
            Credential::Basic { username, .. } => format!("basic auth as {username}"),
            Credential::IdentityToken(_) => "identity token".into(),
        }
    }

    /// The equivalent oci-client credential.
    pub fn to_registry_auth(&self) -> oci_client::secrets::RegistryAuth {
        use oci_client::secrets::RegistryAuth;
        match self {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.to_string())
            }
            // Docker's convention: an identity token is sent as the password of user <token>.
            Credential::IdentityToken(t) => RegistryAuth::Basic("<token>".into(), t.to_string()),
        }
    }

    fn basic_header(&self) -> Option<String> {
        let (u, p) = match self {
            Credential::Anonymous => return None,
            Credential::Basic { username, password } => (username.as_str(), password.as_str()),
            Credential::IdentityToken(t) => ("<token>", t.as_str()),
        };
        let pair = zeroize::Zeroizing::new(format!("{u}:{p}"));
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
        ))
    }
}

/// The docker config file docker, skopeo and cosign read: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
        .map(|d| d.join("config.json"))
}

/// Finds the credential for `registry` (host[:port]): `auths` entries, `credHelpers` and
/// `credsStore` in the docker config, then the containers `auth.json` skopeo and podman use.
/// No configuration at all means anonymous; a broken configuration is an error.
pub fn lookup(registry: &str) -> Result<Credential> {
    if let Some(path) = docker_config_path() {
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| OciError::io(&path, e))?;
            if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
                return Err(OciError::Credentials {
                    registry: registry.into(),
                    reason: format!("{} is not valid JSON", path.display()),
                });
            }
            for server in server_keys(registry) {
                match docker_credential::get_credential_from_reader(bytes.as_slice(), &server) {
                    Ok(c) => return Ok(convert(c)),
                    Err(CredentialRetrievalError::NoCredentialConfigured) => continue,
                    Err(e) => return Err(credential_error(registry, &path, e)),
                }
            }
        }
    }
    match docker_credential::get_podman_credential(registry) {
        Ok(c) => Ok(convert(c)),
        Err(
            CredentialRetrievalError::NoCredentialConfigured
            | CredentialRetrievalError::ConfigNotFound
            | CredentialRetrievalError::ConfigReadError,
        ) => Ok(Credential::Anonymous),
        Err(e) => Err(credential_error(registry, &PathBuf::from("auth.json"), e)),
    }
}

fn server_keys(registry: &str) -> Vec<String> {
    if registry == "docker.io"
        || registry == "index.docker.io"
        || registry == "registry-1.docker.io"
    {
        vec!["https://index.docker.io/v1/".into(), "docker.io".into()]
    } else {
        vec![registry.to_string()]
    }
}

fn convert(c: DockerCredential) -> Credential {
    match c {
        DockerCredential::UsernamePassword(username, password) => Credential::Basic {
            username,
            password: Secret::new(password),
        },
        DockerCredential::IdentityToken(t) => Credential::IdentityToken(Secret::new(t)),
    }
}

/// Helper failures can echo secrets on stdout, so only the helper's name is reported.
fn credential_error(
    registry: &str,
    path: &std::path::Path,
    e: CredentialRetrievalError,
) -> OciError {
    let reason = match e {
        CredentialRetrievalError::HelperFailure { helper, .. } => {
            format!(
                "credential helper {helper} failed (configured in {})",
                path.display()
            )
        }
        CredentialRetrievalError::HelperCommunicationError => format!(
            "cannot run the credential helper configured in {}",
            path.display()
        ),
        other => format!("{other} ({})", path.display()),
    };
    OciError::Credentials {
        registry: registry.into(),
        reason,
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parse the first Basic or Bearer challenge of a `WWW-Authenticate` header.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let challenges = http_auth::parse_challenges(header).ok()?;
    for c in challenges {
        if c.scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if c.scheme.eq_ignore_ascii_case("bearer") {
            let get = |k: &str| {
                c.params
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.to_unescaped())
            };
            return Some(Challenge::Bearer {
                realm: get("realm")?,
                service: get("service"),
                scope: get("scope"),
            });
        }
    }
    None
}

/// Answers a challenge: the `Authorization` header value to retry with, if any.
pub async fn respond(
    http: &reqwest::Client,
    registry: &str,
    challenge: &Challenge,
    credential: &Credential,
    scope: &str,
    registry_is_plain_http: bool,
) -> Result<Option<String>> {
    match challenge {
        Challenge::Basic => Ok(credential.basic_header()),
        Challenge::Bearer {
            realm,
            service,
            scope: offered,
        } => {
            // The token protocol sends the credentials to the realm: only over HTTPS, unless
            // the registry itself is plain HTTP (marked insecure).
            let realm_url = url::Url::parse(realm).map_err(|e| OciError::Unauthorized {
                source_name: registry.into(),
                name: scope.into(),
                reason: format!("the token realm is not a URL ({e})"),
            })?;
            realm_policy(&realm_url, registry_is_plain_http).map_err(|reason| {
                OciError::Unauthorized {
                    source_name: registry.into(),
                    name: scope.into(),
                    reason,
                }
            })?;
            let mut req = http.get(realm.as_str());
            let mut query: Vec<(&str, &str)> = vec![("scope", offered.as_deref().unwrap_or(scope))];
            if let Some(s) = service {
                query.push(("service", s));
            }
            req = req.query(&query);
            if let Some(h) = credential.basic_header() {
                req = req.header(reqwest::header::AUTHORIZATION, h);
            }
            let res = req.send().await.map_err(|e| OciError::Transport {
                source_name: registry.into(),
                reason: format!("token endpoint {realm}: {e}"),
            })?;
            if !res.status().is_success() {
                return Err(OciError::Unauthorized {
                    source_name: registry.into(),
                    name: scope.into(),
                    reason: format!("token endpoint answered {}", res.status().as_u16()),
                });
            }
            #[derive(serde::Deserialize)]
            struct TokenResponse {
                token: Option<String>,
                access_token: Option<String>,
            }
            let body =
                super::remote::read_limited(res, 64 * 1024, registry, "token", realm).await?;
            let t: TokenResponse =
                serde_json::from_slice(&body).map_err(|e| OciError::Malformed {
                    what: "token response",
                    name: realm.clone(),
                    source_name: registry.into(),
                    reason: e.to_string(),
                })?;
            Ok(t.token.or(t.access_token).map(|t| format!("Bearer {t}")))
        }
    }
}

/// Where a token realm may be: HTTPS, or plain HTTP only for a registry that is itself plain
/// HTTP (marked insecure): credentials never travel in clear text to reach an HTTPS registry.
pub(crate) fn realm_policy(
    realm: &url::Url,
    registry_is_plain_http: bool,
) -> std::result::Result<(), String> {
    match realm.scheme() {
        "https" => Ok(()),
        "http" if registry_is_plain_http => Ok(()),
        "http" => Err(format!(
            "the token realm {} is plain HTTP for an HTTPS registry: credentials are not sent \
             in clear text",
            crate::text::sanitize(realm.as_str())
        )),
        other => Err(format!("the token realm uses {other:?}, not HTTPS")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_realms_need_https_unless_the_registry_is_plain_http() {
        let u = |s: &str| url::Url::parse(s).expect("url");
        assert!(realm_policy(&u("https://auth.example/token"), false).is_ok());
        assert!(realm_policy(&u("http://auth.example/token"), false).is_err());
        assert!(realm_policy(&u("http://127.0.0.1:5001/token"), true).is_ok());
        assert!(realm_policy(&u("file:///etc/passwd"), true).is_err());
    }

    #[test]
    fn parses_bearer_and_basic() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credential::Basic {
            username: "u".into(),
            password: Secret::new("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.describe().contains("hunter2"));
    }
}
