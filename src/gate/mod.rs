//! The gate service: the one place a verdict is computed. The CLI (`gate`, `inspect`,
//! `evidence`, `verify`) and every TUI view ask it, with the same policy, trust, clock and
//! `COSIGN_REPOSITORY`, so CI and the console never disagree.
//!
//! Judging a digest reads the artifact's own content first (manifest, config, platform
//! manifests), each checked against its digest: a corrupt config is a failure of the artifact,
//! not something a gate may pass over. Then one walk discovers and verifies the evidence, and
//! the policy decides per environment.

use crate::config::Environment;
use crate::evidence::Discovery;
use crate::oci::media::Manifest;
use crate::oci::{FetchedManifest, OciError, Store};
use crate::policy::{evaluate_policy, Facts, Policy, Verdict};
use crate::verify::{LazyRoot, Trust};
use std::sync::Arc;

/// Platform manifests of an index checked per judgement.
const MAX_CHILDREN: usize = 64;

/// Everything the gate needs besides the artifact: policy, trust, root, clock.
#[derive(Debug, Clone)]
pub struct Gate {
    pub policy: Policy,
    pub trust: Arc<Vec<Trust>>,
    pub root: Arc<LazyRoot>,
    /// Where cosign tags live (`COSIGN_REPOSITORY`), when not beside the image.
    pub cosign_repository: Option<String>,
    /// A fixed time for max-age rules (tests); None is now.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// The ledger, whose chains hold the records that count. None: no record counts.
    pub ledger: Option<crate::ledger::LedgerReader>,
}

/// What the gate found about one digest and its verdict per environment.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub digest: String,
    pub discovery: Discovery,
    /// When the image says it was created (its config).
    pub created: Option<String>,
    pub verdicts: Vec<Verdict>,
    /// The digest's audit trail, as the verdicts read it.
    pub trail: Option<crate::evidence::trail::Trail>,
}

/// The artifact's own content, as far as it could be read.
#[derive(Debug, Default)]
struct Content {
    manifest: Option<FetchedManifest>,
    created: Option<String>,
    error: Option<String>,
    integrity: Vec<String>,
}

fn note(c: &mut Content, what: &str, e: OciError) {
    if e.is_integrity() {
        c.integrity.push(format!("{what}: {e}"));
    } else {
        c.error.get_or_insert(format!("{what}: {e}"));
    }
}

async fn read_content(store: &impl Store, repo: &str, digest: &str) -> Content {
    let mut c = Content::default();
    let m = match store.get_manifest(repo, digest).await {
        Ok(m) => m,
        Err(e) => {
            note(&mut c, "the manifest", e);
            return c;
        }
    };
    match Manifest::parse(&m.bytes, &m.media_type) {
        Ok((Manifest::Image(img), _)) => {
            c.created = img
                .annotations
                .get(crate::oci::media::annotation::CREATED)
                .cloned();
            match crate::oci::artifact::read_config(store, repo, &img.config).await {
                Ok(cfg) => {
                    c.created = c.created.take().or(cfg.and_then(|c| c.created));
                }
                Err(e) => note(&mut c, "the image config", e),
            }
        }
        Ok((Manifest::Index(idx), _)) => {
            c.created = idx
                .annotations
                .get(crate::oci::media::annotation::CREATED)
                .cloned();
            // Every platform manifest must check out: the index's signature covers them.
            let children: Vec<_> = idx
                .manifests
                .iter()
                .filter(|d| {
                    d.annotations
                        .get("vnd.docker.reference.type")
                        .map(String::as_str)
                        != Some("attestation-manifest")
                })
                .take(MAX_CHILDREN)
                .collect();
            let read = futures::future::join_all(
                children.iter().map(|d| store.get_manifest(repo, &d.digest)),
            )
            .await;
            for (d, r) in children.iter().zip(read) {
                if let Err(e) = r {
                    note(
                        &mut c,
                        &format!("platform manifest {}", crate::oci::digest::short(&d.digest)),
                        e,
                    );
                }
            }
        }
        Err(e) => c
            .integrity
            .push(format!("the manifest does not parse: {e}")),
    }
    c.manifest = Some(m);
    c
}

impl Gate {
    /// The clock max-age rules use.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.unwrap_or_else(chrono::Utc::now)
    }

    /// The ledger's chain `name`, as verdicts read it (once per run, its records checked
    /// with the ledger's trust).
    pub async fn chain(
        &self,
        name: &str,
    ) -> Result<std::sync::Arc<crate::ledger::Walk>, crate::ledger::LedgerError> {
        match &self.ledger {
            Some(l) => l.walk(name, &self.root).await,
            None => Err(crate::ledger::LedgerError::NotConfigured),
        }
    }

    /// Judges `digest` in `repo` for every environment in `envs`.
    pub async fn judge(
        &self,
        store: &impl Store,
        repo: &str,
        digest: &str,
        envs: &[Environment],
    ) -> Judgement {
        self.judge_in(store, repo, digest, None, envs).await
    }

    /// Judges a platform manifest opened from the index `index`: when the index lists it and a
    /// trusted signer signed the index, that signature covers the platform manifest.
    pub async fn judge_platform(
        &self,
        store: &impl Store,
        repo: &str,
        digest: &str,
        index: &str,
        envs: &[Environment],
    ) -> Judgement {
        self.judge_in(store, repo, digest, Some(index), envs).await
    }

    async fn covering(
        &self,
        store: &impl Store,
        repo: &str,
        digest: &str,
        index: &str,
    ) -> Option<(String, Vec<String>)> {
        let m = store.get_manifest(repo, index).await.ok()?;
        let Ok((Manifest::Index(idx), _)) = Manifest::parse(&m.bytes, &m.media_type) else {
            return None;
        };
        if !idx.manifests.iter().any(|d| d.digest == digest) {
            return None;
        }
        let root = self.root.get().ok()?;
        let d = crate::verify::oci::discover_verified(
            store,
            repo,
            index,
            self.cosign_repository.as_deref(),
            Some(&m),
            &self.trust,
            root,
        )
        .await;
        let signers = crate::evidence::trusted_signers(d.items.iter().filter(|i| {
            i.kind == crate::evidence::Kind::Signature
                && i.binding == crate::evidence::Binding::Matches
        }));
        Some((index.to_string(), signers))
    }

    async fn judge_in(
        &self,
        store: &impl Store,
        repo: &str,
        digest: &str,
        index: Option<&str>,
        envs: &[Environment],
    ) -> Judgement {
        let valid = crate::oci::Digest::parse(digest).is_ok();
        let (content, discovery) = if let Err(e) = crate::oci::Digest::parse(digest) {
            // Never fetched: a string that is not a digest is not looked up as a tag.
            let c = Content {
                error: Some(e.to_string()),
                ..Default::default()
            };
            (c, Discovery::default())
        } else {
            let cached = crate::oci::cache::ReadCache::new(store);
            let content = read_content(&cached, repo, digest).await;
            let discovery = match self.root.get() {
                Ok(root) => {
                    crate::verify::oci::discover_verified(
                        &cached,
                        repo,
                        digest,
                        self.cosign_repository.as_deref(),
                        content.manifest.as_ref(),
                        &self.trust,
                        root,
                    )
                    .await
                }
                Err(e) => Discovery {
                    digest: digest.to_string(),
                    items: vec![],
                    errors: vec![format!("trusted root: {e}")],
                },
            };
            (content, discovery)
        };
        let covered_by = match index.filter(|i| crate::oci::digest::is_valid(i)) {
            Some(i) => self.covering(store, repo, digest, i).await,
            None => None,
        };
        let trail = match &self.ledger {
            Some(l) if valid => {
                let mut chains = vec![crate::evidence::record::QUARANTINE_CHAIN];
                chains.extend(envs.iter().map(|e| e.name.as_str()));
                Some(l.trail(digest, &chains, &self.root).await)
            }
            _ => None,
        };
        let facts = Facts {
            trail: trail.as_ref(),
            digest,
            discovery: &discovery,
            created: content.created.as_deref(),
            error: content.error.clone(),
            integrity: content.integrity.clone(),
            covered_by,
        };
        let now = self.now();
        let verdicts = envs
            .iter()
            .map(|e| evaluate_policy(&self.policy.file, e, &facts, now))
            .collect();
        Judgement {
            digest: digest.to_string(),
            discovery,
            created: content.created,
            verdicts,
            trail,
        }
    }
}

/// The verdict for something that could not even be resolved (a registry that did not answer):
/// one evaluation error, which blocks a required tier and warns elsewhere.
pub fn unresolved(env: &Environment, error: &str) -> Verdict {
    let findings = vec![crate::policy::Finding {
        rule: "evaluation".into(),
        outcome: crate::policy::Outcome::Error,
        evidence_fails: false,
        critical: false,
        message: format!("could not evaluate: {error}"),
        hint: Some("check that the registry is reachable, then run the gate again".into()),
        evidence: None,
    }];
    Verdict {
        environment: env.name.clone(),
        tier: env.tier,
        digest: String::new(),
        decision: crate::policy::verdict::decide(env.tier, &findings),
        findings,
    }
}
