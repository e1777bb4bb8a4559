//! Where it runs: an environment's runtime (a Docker Engine API endpoint, or a Kubernetes
//! cluster through `kubectl get pods -o json`) listed, each running digest set against what the
//! environment's tag and chain say, and judged again with today's policy.

use crate::config::{Environment, RuntimeEntry};
use crate::oci::Store;
use crate::policy::{Decision, Verdict};
use crate::setup::Settings;
use serde::Serialize;

/// A runtime document is refused above this size.
const MAX_DOCUMENT: usize = 32 << 20;

/// One container the runtime lists.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Workload {
    /// `NAMESPACE/POD/CONTAINER` (Kubernetes) or the container's name (Docker).
    pub name: String,
    /// The image reference it was created from.
    pub image: String,
    /// The registry host and repository of the image, when the reference names them.
    pub registry: Option<String>,
    pub repository: Option<String>,
    /// The manifest digest it runs, when the runtime says.
    pub digest: Option<String>,
    /// running, created, exited, waiting…
    pub state: String,
}

/// How a running digest stands against the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// It runs what the environment's tag names.
    AsTagged,
    /// It runs a digest the chain shows promoted there before, not what the tag names now.
    Stale,
    /// It runs a digest the tag does not name and no promotion ever brought there.
    NeverPromoted,
    /// The runtime does not say which digest it runs.
    UnknownDigest,
}

impl Standing {
    pub fn is_drift(self) -> bool {
        self != Standing::AsTagged
    }
    pub fn words(self) -> &'static str {
        match self {
            Standing::AsTagged => "as tagged",
            Standing::Stale => "stale: an older promotion, not what the tag names",
            Standing::NeverPromoted => "drift: never promoted here",
            Standing::UnknownDigest => "drift: the runtime does not say which digest",
        }
    }
}

/// One workload of the environment, judged.
#[derive(Debug, Clone, Serialize)]
pub struct Running {
    pub workload: Workload,
    pub standing: Standing,
    /// What the environment's tag names in that repository now.
    pub tagged: Option<String>,
    pub verdict: Option<Verdict>,
}

/// What `runtime ENV` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub environment: String,
    pub runtime: String,
    pub workloads: Vec<Running>,
    /// Workloads whose image is not in a repository the environment tracks.
    pub untracked: Vec<Workload>,
}

impl Report {
    pub fn drifted(&self) -> bool {
        self.workloads.iter().any(|r| r.standing.is_drift())
    }
    pub fn blocked(&self) -> bool {
        self.workloads.iter().any(|r| {
            r.verdict
                .as_ref()
                .is_some_and(|v| v.decision == Decision::Block)
        })
    }
}

/// Splits `host[:port]/repo[:tag][@digest]` into registry, repository, digest.
pub fn split_image(image: &str) -> (Option<String>, Option<String>, Option<String>) {
    let image = image
        .trim_start_matches("docker-pullable://")
        .trim_start_matches("docker://");
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, crate::oci::digest::is_valid(d).then(|| d.to_string())),
        None => (image, None),
    };
    if name.starts_with("sha256:") {
        return (None, None, digest);
    }
    let (host, rest) = match name.split_once('/') {
        Some((h, r)) if h.contains('.') || h.contains(':') || h == "localhost" => {
            (Some(h.to_string()), r)
        }
        _ => (Some("docker.io".to_string()), name),
    };
    // A tag follows the last ':' after the last '/'.
    let repo = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => &rest[..i],
        _ => rest,
    };
    (host, Some(repo.to_string()), digest)
}

/// Reads `kubectl get pods -o json` output.
pub fn kubernetes_workloads(doc: &[u8], namespaces: &[String]) -> Result<Vec<Workload>, String> {
    if doc.len() > MAX_DOCUMENT {
        return Err(format!("the pod list is larger than {MAX_DOCUMENT} bytes"));
    }
    let v: serde_json::Value = serde_json::from_slice(doc)
        .map_err(|e| format!("not a pod list (kubectl get pods -o json): {e}"))?;
    let items = v
        .get("items")
        .and_then(|i| i.as_array())
        .ok_or("not a pod list: no \"items\" (kubectl get pods -A -o json prints one)")?;
    let mut out = vec![];
    for pod in items {
        let ns = pod
            .pointer("/metadata/namespace")
            .and_then(|x| x.as_str())
            .unwrap_or("default");
        if !namespaces.is_empty() && !namespaces.iter().any(|n| n == ns) {
            continue;
        }
        let name = pod
            .pointer("/metadata/name")
            .and_then(|x| x.as_str())
            .unwrap_or("?");
        let statuses = ["/status/initContainerStatuses", "/status/containerStatuses"]
            .iter()
            .filter_map(|p| pod.pointer(p).and_then(|x| x.as_array()))
            .flatten();
        for c in statuses {
            let image = c.get("image").and_then(|x| x.as_str()).unwrap_or("");
            let image_id = c.get("imageID").and_then(|x| x.as_str()).unwrap_or("");
            let (registry, repository, tag_digest) = split_image(image);
            let (_, _, digest) = split_image(image_id);
            let state = c
                .get("state")
                .and_then(|s| s.as_object())
                .and_then(|s| s.keys().next().cloned())
                .unwrap_or_else(|| "unknown".into());
            out.push(Workload {
                name: format!(
                    "{ns}/{name}/{}",
                    c.get("name").and_then(|x| x.as_str()).unwrap_or("?")
                ),
                image: image.to_string(),
                registry,
                repository,
                digest: digest.or(tag_digest),
                state,
            });
        }
    }
    Ok(out)
}

/// GET `path` from a Docker Engine API at `endpoint` (`unix:///PATH` or `http://HOST:PORT`),
/// within `deadline`, the body capped.
async fn docker_get(
    endpoint: &str,
    path: &str,
    deadline: std::time::Duration,
) -> Result<Vec<u8>, String> {
    let fut = async {
        if let Some(sock) = endpoint.strip_prefix("unix://") {
            use http_body_util::BodyExt;
            let stream = tokio::net::UnixStream::connect(sock)
                .await
                .map_err(|e| format!("connecting to {sock}: {e}"))?;
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|e| format!("{endpoint}: {e}"))?;
            tokio::spawn(conn);
            let req = hyper::Request::get(path)
                .header("Host", "docker")
                .body(http_body_util::Empty::<bytes::Bytes>::new())
                .map_err(|e| e.to_string())?;
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| format!("{endpoint}{path}: {e}"))?;
            let status = resp.status();
            let body = http_body_util::Limited::new(resp.into_body(), MAX_DOCUMENT)
                .collect()
                .await
                .map_err(|e| format!("{endpoint}{path}: {e}"))?
                .to_bytes();
            if !status.is_success() {
                return Err(format!(
                    "{endpoint}{path} answered {status}: {}",
                    crate::text::sanitize(&String::from_utf8_lossy(&body[..body.len().min(200)]))
                ));
            }
            Ok(body.to_vec())
        } else if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
            let url = format!("{}{path}", endpoint.trim_end_matches('/'));
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .map_err(|e| format!("{url}: {e}"))?;
            let mut resp = client
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            let status = resp.status();
            if resp
                .content_length()
                .is_some_and(|n| n > MAX_DOCUMENT as u64)
            {
                return Err(format!("{url}: larger than {MAX_DOCUMENT} bytes"));
            }
            // Read chunk by chunk and stop at the cap: an endless (chunked) answer is never
            // buffered whole, as on the unix socket.
            let mut body: Vec<u8> = vec![];
            while let Some(c) = resp.chunk().await.map_err(|e| format!("{url}: {e}"))? {
                if body.len() + c.len() > MAX_DOCUMENT {
                    return Err(format!("{url}: larger than {MAX_DOCUMENT} bytes"));
                }
                body.extend_from_slice(&c);
            }
            if !status.is_success() {
                return Err(format!("{url} answered {status}"));
            }
            Ok(body)
        } else {
            Err(format!(
                "{:?} is not a Docker endpoint (unix:///PATH or http://HOST:PORT)",
                crate::text::sanitize(endpoint)
            ))
        }
    };
    tokio::time::timeout(deadline, fut).await.map_err(|_| {
        format!(
            "{endpoint} did not answer {path} within {}s",
            deadline.as_secs()
        )
    })?
}

/// One entry of a Docker Engine API's container list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerContainer {
    pub image: String,
    pub image_id: String,
    pub name: String,
    pub state: String,
}

/// The container list a Docker Engine API answers (`/containers/json`), at most 10,000.
pub fn docker_containers(body: &[u8]) -> Result<Vec<DockerContainer>, String> {
    let list: Vec<serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| format!("the container list does not read: {e}"))?;
    let text = |c: &serde_json::Value, k: &str, or: &str| {
        c.get(k).and_then(|x| x.as_str()).unwrap_or(or).to_string()
    };
    Ok(list
        .iter()
        .take(10_000)
        .map(|c| DockerContainer {
            image: text(c, "Image", ""),
            image_id: text(c, "ImageID", ""),
            name: c
                .get("Names")
                .and_then(|x| x.as_array())
                .and_then(|n| n.first())
                .and_then(|x| x.as_str())
                .unwrap_or("?")
                .trim_start_matches('/')
                .to_string(),
            state: text(c, "State", "unknown"),
        })
        .collect())
}

/// Lists the containers of a Docker Engine API, each with the manifest digest of its image
/// (from the image's `RepoDigests`, matched to the repository it was created from).
pub async fn docker_workloads(
    endpoint: &str,
    deadline: std::time::Duration,
) -> Result<Vec<Workload>, String> {
    let body = docker_get(endpoint, "/v1.41/containers/json?all=true", deadline).await?;
    let list = docker_containers(&body).map_err(|e| format!("{endpoint}: {e}"))?;
    let mut digests_of: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut out = vec![];
    for c in list {
        let DockerContainer {
            image,
            image_id,
            name,
            state,
        } = c;
        if !digests_of.contains_key(&image_id) && !image_id.is_empty() {
            let id = image_id.trim_start_matches("sha256:");
            let repo_digests =
                match docker_get(endpoint, &format!("/v1.41/images/{id}/json"), deadline).await {
                    Ok(b) => serde_json::from_slice::<serde_json::Value>(&b)
                        .ok()
                        .and_then(|v| v.get("RepoDigests").cloned())
                        .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok())
                        .unwrap_or_default(),
                    Err(_) => vec![],
                };
            digests_of.insert(image_id.clone(), repo_digests);
        }
        let (registry, repository, pinned) = split_image(&image);
        let digest = pinned.or_else(|| {
            let rds = digests_of.get(&image_id)?;
            let want = (registry.clone(), repository.clone());
            rds.iter()
                .map(|r| split_image(r))
                .find(|(h, r, _)| (h.clone(), r.clone()) == want)
                .and_then(|(_, _, d)| d)
        });
        out.push(Workload {
            name,
            image,
            registry,
            repository,
            digest,
            state,
        });
    }
    Ok(out)
}

/// The workloads of `env`'s runtime (or of `from_file`, a pod list).
pub async fn workloads(
    settings: &Settings,
    env: &Environment,
    from_file: Option<&std::path::Path>,
) -> Result<(String, Vec<Workload>), String> {
    let rt = settings
        .runtimes
        .iter()
        .find(|(e, _)| *e == env.name)
        .map(|(_, r)| r);
    if let Some(path) = from_file {
        let doc = crate::oci::files::read_regular(path, MAX_DOCUMENT as u64, false)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let ns = match rt {
            Some(RuntimeEntry::Kubernetes(k)) => k.namespaces.clone(),
            _ => vec![],
        };
        return Ok((
            format!("pod list {}", path.display()),
            kubernetes_workloads(&doc, &ns)?,
        ));
    }
    match rt {
        None => Err(format!(
            "environment {} names no runtime (add runtime = {{ docker = \"unix:///…\" }} or {{ kubernetes = {{ … }} }} to it in provost.toml, or pass --from-file PODS.json)",
            env.name
        )),
        Some(RuntimeEntry::Docker(endpoint)) => Ok((
            format!("docker {endpoint}"),
            docker_workloads(endpoint, settings.timeout).await?,
        )),
        Some(RuntimeEntry::Kubernetes(k)) => {
            let mut cmd = tokio::process::Command::new("kubectl");
            cmd.args(["get", "pods", "-A", "-o", "json"]);
            if let Some(c) = &k.context {
                cmd.args(["--context", c]);
            }
            cmd.kill_on_drop(true);
            let out = tokio::time::timeout(settings.timeout, cmd.output())
                .await
                .map_err(|_| format!("kubectl did not answer within {}s", settings.timeout.as_secs()))?
                .map_err(|e| format!("running kubectl: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "kubectl get pods failed: {}",
                    crate::text::sanitize(String::from_utf8_lossy(&out.stderr).trim())
                ));
            }
            Ok((
                format!("kubernetes {}", k.context.as_deref().unwrap_or("(current context)")),
                kubernetes_workloads(&out.stdout, &k.namespaces)?,
            ))
        }
    }
}

/// Sets every workload of `env` against its tag and chain and judges what it runs.
pub async fn runtime(
    settings: &Settings,
    env: &Environment,
    from_file: Option<&std::path::Path>,
) -> Result<Report, String> {
    let (what, list) = workloads(settings, env, from_file).await?;
    let source = settings
        .source(&env.source)
        .ok_or_else(|| format!("no source {}", env.source))?;
    let gate = settings.gate(source, None).map_err(|e| e.to_string())?;
    let host = match source.store.as_ref() {
        crate::oci::Source::Remote(_) => Some(source.store.name().to_string()),
        _ => None,
    };
    let walk = gate.chain(&env.name).await?;
    let mut report = Report {
        environment: env.name.clone(),
        runtime: what,
        workloads: vec![],
        untracked: vec![],
    };
    for w in list {
        let tracked = w
            .repository
            .as_deref()
            .is_some_and(|r| env.tracks_repository(r))
            && (host.is_none() || w.registry == host);
        if !tracked {
            report.untracked.push(w);
            continue;
        }
        let repo = w.repository.clone().unwrap_or_default();
        let tagged = match env.moving_tag() {
            Some(t) => source.store.resolve(&repo, t).await.ok(),
            None => None,
        };
        let held = crate::release::promote::held(&walk, &gate, &repo);
        let standing = match &w.digest {
            None => Standing::UnknownDigest,
            // Whether the tag itself moved outside provost is `provost drift`'s question.
            Some(d) if tagged.as_deref() == Some(d.as_str()) => Standing::AsTagged,
            Some(d) if held.contains(d) => Standing::Stale,
            Some(_) => Standing::NeverPromoted,
        };
        let verdict = match &w.digest {
            Some(d) => gate
                .judge(source.store.as_ref(), &repo, d, std::slice::from_ref(env))
                .await
                .verdicts
                .pop(),
            None => None,
        };
        report.workloads.push(Running {
            workload: w,
            standing,
            tagged,
            verdict,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            split_image(&format!("127.0.0.1:5000/acme/api@{d}")),
            (
                Some("127.0.0.1:5000".into()),
                Some("acme/api".into()),
                Some(d.clone())
            )
        );
        assert_eq!(
            split_image("127.0.0.1:5000/acme/api:prod"),
            (Some("127.0.0.1:5000".into()), Some("acme/api".into()), None)
        );
        assert_eq!(
            split_image(&format!("docker-pullable://reg.example:443/x/y@{d}")).1,
            Some("x/y".into())
        );
        assert_eq!(split_image("nginx:1.25").1, Some("nginx".into()));
    }
}
