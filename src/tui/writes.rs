//! The console's record jobs: planning (who may write it, the exact statement), writing (one
//! queue, one write at a time, never aborted by navigation) and reading an audit chain. The
//! checks and the draft are `release::act`'s, the same the CLI uses.

use super::action::Action;
use super::modal::{AuditRow, AuditView, Plan, Request};
use crate::release::record::{self, Signing};
use crate::setup::Settings;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Everything a record job needs.
#[derive(Clone)]
pub struct Writer {
    pub settings: Arc<Settings>,
    pub gates: Arc<std::collections::HashMap<String, Arc<crate::gate::Gate>>>,
    pub tx: UnboundedSender<Action>,
    /// Set to cancel the running promotion (before its record).
    pub cancel: Arc<std::sync::atomic::AtomicBool>,
}

fn short(s: &str) -> String {
    crate::oci::digest::short(s)
}

impl Writer {
    pub(super) fn parts(
        &self,
        source: &str,
    ) -> Result<(crate::setup::NamedSource, Arc<crate::gate::Gate>), String> {
        let src = self
            .settings
            .source(source)
            .cloned()
            .ok_or_else(|| format!("unknown source {source}"))?;
        let gate = self
            .gates
            .get(source)
            .cloned()
            .ok_or_else(|| format!("no gate for {source}"))?;
        Ok((src, gate))
    }

    /// Reads the key; `passphrase` is used only for an encrypted key (None: say one is
    /// needed).
    pub(super) fn key(
        &self,
        source: &crate::setup::NamedSource,
        r: &Request,
    ) -> Result<Result<p256::ecdsa::SigningKey, ()>, String> {
        let path = self.settings.key_path(source, &r.key)?;
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&path)
                .map_err(|e| format!("reading the key {}: {e}", path.display()))?,
        );
        if crate::verify::keys::is_encrypted(&text) && r.passphrase.is_none() {
            return Ok(Err(()));
        }
        let pass = r.passphrase.clone();
        crate::verify::keys::load_signing_key(&text, || {
            pass.map(|p| p.0)
                .ok_or_else(|| crate::verify::VerifyError::Passphrase("no passphrase".into()))
        })
        .map(Ok)
        .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Who the request's key signs as (in words), checked against who may do it; for an
    /// encrypted key the label until it is opened (and true: a passphrase is needed).
    pub(super) fn signer(
        &self,
        source: &crate::setup::NamedSource,
        gate: &crate::gate::Gate,
        r: &Request,
    ) -> Result<(String, bool), String> {
        let key = self.key(source, r)?;
        let (signer, needs_passphrase) = match &key {
            Ok(k) => (
                crate::release::act::identify(k, &gate.trust).ok_or_else(|| {
                    format!(
                        "key {} is not trusted here: a record it signs would count for nothing",
                        &crate::evidence::attest::key_id(k)[..16]
                    )
                })?,
                false,
            ),
            Err(()) => (
                // Encrypted: who it is is known once it is opened; the label says which file.
                crate::evidence::Signer::Key {
                    fingerprint: String::new(),
                    name: Some(r.key_label.clone()),
                },
                true,
            ),
        };
        if !needs_passphrase {
            crate::release::act::check_allowed(
                gate,
                &signer,
                &r.kind,
                &self.settings.environments,
            )?;
        }
        Ok((signer.sentence(), needs_passphrase))
    }

    /// The request's key, opened, trusted here and allowed to do what it asks.
    pub(super) fn opened_key(
        &self,
        source: &crate::setup::NamedSource,
        gate: &crate::gate::Gate,
        r: &Request,
    ) -> Result<p256::ecdsa::SigningKey, String> {
        let key = match self.key(source, r)? {
            Ok(k) => k,
            Err(()) => return Err("the key is encrypted and no passphrase was given".into()),
        };
        let signer = crate::release::act::identify(&key, &gate.trust)
            .ok_or_else(|| "the key is not trusted here".to_string())?;
        crate::release::act::check_allowed(gate, &signer, &r.kind, &self.settings.environments)?;
        Ok(key)
    }

    async fn draft(&self, r: &Request) -> Result<(record::Draft, String, bool), String> {
        let (source, gate) = self.parts(&r.source)?;
        let (signer, needs_passphrase) = self.signer(&source, &gate, r)?;
        let mut d = Self::statement(&source, &gate, r).await?;
        let chains = self.settings.chains()?;
        crate::release::act::link_to_head(
            chains.ledger.store.as_ref(),
            &chains.ledger.repository,
            &mut d,
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok((d, signer, needs_passphrase))
    }

    /// The record `r` asks for, drafted now (the plan and the write both draft it).
    async fn statement(
        source: &crate::setup::NamedSource,
        gate: &crate::gate::Gate,
        r: &Request,
    ) -> Result<record::Draft, String> {
        crate::release::act::draft(
            source.store.as_ref(),
            gate,
            &r.repository,
            &r.digest,
            &r.kind,
            &r.reason,
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// Builds the plan the confirm dialog shows.
    pub fn plan(&self, request: Request) {
        let w = self.clone();
        tokio::spawn(async move {
            let result = if request.kind.moves_a_tag() {
                w.plan_move(&request).await
            } else if !request.also.is_empty() {
                w.plan_batch(&request).await
            } else {
                w.draft(&request)
                    .await
                    .map(|(d, signer, needs_passphrase)| {
                        let text = serde_json::to_string_pretty(&d.statement()).unwrap_or_default();
                        Plan {
                            signer,
                            statement: text.lines().map(str::to_string).collect(),
                            title: "the statement that will be signed:".into(),
                            destination: format!(
                                "stored as a referrer of {}@{} in {}, linked into chain {} of {}",
                                d.repository,
                                short(&d.subject.digest),
                                request.source,
                                d.record.link().chain,
                                w.settings.ledger_words(&request.source)
                            ),
                            needs_passphrase,
                            previous: None,
                        }
                    })
            };
            let _ = w.tx.send(Action::Planned { request, result });
        });
    }

    async fn write(&self, r: &Request) -> Result<String, String> {
        let (source, gate) = self.parts(&r.source)?;
        let key = self.opened_key(&source, &gate, r)?;
        let d = Self::statement(&source, &gate, r).await?;
        let tsa = self.settings.timestamp_server.clone();
        let chains = self.settings.chains()?;
        let written = record::write_to(
            chains.ledger.store.as_ref(),
            &chains.ledger.repository,
            source.store.as_ref(),
            &d,
            &Signing::Key {
                key: &key,
                timestamp_url: tsa.as_deref(),
                rekor_url: self.settings.rekor_url.as_deref(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        chains.forget();
        if let Some(dir) = crate::config::paths::cache_dir() {
            use crate::oci::Store;
            crate::oci::disk::invalidate(&dir, source.store.name(), &r.repository);
        }
        Ok(written.record)
    }

    /// The plan of a batch: every digest it writes a record for, who signs each (checked
    /// per source), and the first statement in full (the others differ in their subject).
    async fn plan_batch(&self, r: &Request) -> Result<Plan, String> {
        let targets = r.targets();
        let mut lines = vec![format!(
            "{} digest(s), one signed record each:",
            targets.len()
        )];
        let mut signer = String::new();
        let mut needs_passphrase = false;
        let mut chain = String::new();
        let mut first = vec![];
        for (i, t) in targets.iter().enumerate() {
            let one = r.for_target(t);
            let (d, who, pass) = self
                .draft(&one)
                .await
                .map_err(|e| format!("{}@{}: {e}", t.repository, short(&t.digest)))?;
            lines.push(format!(
                "  {}/{}@{}",
                t.source,
                t.repository,
                short(&t.digest)
            ));
            if i == 0 {
                signer = who;
                needs_passphrase = pass;
                chain = d.record.link().chain.clone();
                first = serde_json::to_string_pretty(&d.statement())
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_string)
                    .collect();
            }
        }
        lines.push(String::new());
        lines.push("the first statement (the others name their own digest):".into());
        lines.extend(first);
        Ok(Plan {
            signer,
            statement: lines,
            title: "what will be signed:".into(),
            destination: format!(
                "each stored as a referrer of its digest, linked into chain {chain} of {}",
                self.settings.ledger_words(&r.source)
            ),
            needs_passphrase,
            previous: None,
        })
    }

    /// Writes a batch one record after another, each drafted and checked on its own; the
    /// sentence says how each went. An error after some were written names both.
    async fn write_batch(&self, r: &Request) -> Result<String, String> {
        let mut done = vec![];
        let mut failed = vec![];
        for t in r.targets() {
            let name = format!("{}@{}", t.repository, short(&t.digest));
            match self.write(&r.for_target(&t)).await {
                Ok(_) => done.push(name),
                Err(e) => failed.push(format!("{name}: {e}")),
            }
        }
        let words = r.kind.words();
        if failed.is_empty() {
            Ok(format!(
                "✓ {words}: {} record(s) written ({})",
                done.len(),
                done.join(", ")
            ))
        } else {
            Err(format!(
                "{} of {} written ({}); failed: {}",
                done.len(),
                done.len() + failed.len(),
                if done.is_empty() {
                    "-".to_string()
                } else {
                    done.join(", ")
                },
                failed.join("; ")
            ))
        }
    }

    /// The queue: writes run one after another on their own task.
    pub fn queue(&self) -> UnboundedSender<Request> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Request>();
        let w = self.clone();
        tokio::spawn(async move {
            while let Some(request) = rx.recv().await {
                let result = if request.kind.moves_a_tag() {
                    w.write_move(&request).await
                } else if !request.also.is_empty() {
                    w.write_batch(&request).await
                } else {
                    w.write(&request).await
                };
                let _ = w.tx.send(Action::Written { request, result });
            }
        });
        tx
    }

    /// Reads and verifies `chain` of `source`.
    pub fn audit(&self, source: String, chain: String) {
        let w = self.clone();
        tokio::spawn(async move {
            let result: Result<Box<AuditView>, String> = async {
                let _ = &source;
                let chains = w.settings.chains()?.clone();
                let (_, gate) = w.parts(&chains.ledger.source)?;
                let repo = &chains.ledger.repository;
                let walk = chains
                    .read(&chain, &gate.trust, &gate.root, true)
                    .await
                    .map_err(|e| e.to_string())?;
                let report = crate::release::chain::verify(
                    chains.ledger.store.as_ref(),
                    repo,
                    &walk,
                    &gate.policy.file,
                    &gate.trust,
                    &gate.root,
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
                let rows = walk
                    .entries
                    .iter()
                    .map(|e| AuditRow {
                        verified: e.signer().is_some(),
                        who: e
                            .signer()
                            .map(crate::policy::records::signer_name)
                            .unwrap_or_else(|| "unverified".into()),
                        when: e
                            .record
                            .as_ref()
                            .and_then(|r| r.time())
                            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_default(),
                        proven_time: e.check.as_ref().is_some_and(|c| {
                            !matches!(c.time, crate::evidence::trust::TimeProof::Unproven)
                        }),
                        what: e
                            .record
                            .as_ref()
                            .map(|r| r.action_words())
                            .unwrap_or_else(|| e.problem.clone().unwrap_or_default()),
                        digest: format!(
                            "{}@{}",
                            e.repository.clone().unwrap_or_default(),
                            e.subject.as_deref().map(short).unwrap_or_default()
                        ),
                        reason: e
                            .record
                            .as_ref()
                            .map(|r| r.link().reason.clone())
                            .unwrap_or_default(),
                    })
                    .collect();
                Ok(Box::new(AuditView {
                    chain: chain.clone(),
                    rows,
                    problems: report.problems,
                }))
            }
            .await;
            let _ = w.tx.send(Action::AuditLoaded { chain, result });
        });
    }
}
