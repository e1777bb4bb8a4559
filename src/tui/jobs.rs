//! Background work: each `Job` runs on a tokio task with a timeout and reports back over the
//! channel as an `Action`. A new job of the same kind aborts the previous one (stale work is
//! dropped), and answers carry their generation so late ones are ignored.

use super::action::Action;
use super::app::Job;
use crate::oci::artifact::{describe, summarize};
use crate::oci::{ArtifactRef, Source, Store};
use crate::setup::Settings;
use futures::StreamExt;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

/// Tag summaries fetched at once per listing.
const SUMMARY_CONCURRENCY: usize = 8;

/// Starts jobs and keeps at most one running per kind.
pub struct Jobs {
    sources: HashMap<String, Arc<Source>>,
    tx: UnboundedSender<Action>,
    timeout: Duration,
    running: [Option<AbortHandle>; 4],
    /// The gate per source name: the same service, policy and trust `provost gate` uses.
    gates: HashMap<String, Arc<crate::gate::Gate>>,
    environments: Vec<crate::config::Environment>,
    /// A fixed clock for verdicts in tests; None means now.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// Record planning, writing and audit reads.
    writer: super::writes::Writer,
    /// The write queue, started with the first write.
    writes: Option<UnboundedSender<super::modal::Request>>,
}

fn describe_error(e: impl std::fmt::Display) -> String {
    format!("{e} — press r to retry")
}

async fn with_timeout<T>(
    limit: Duration,
    f: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "timed out after {} s — press r to retry",
            limit.as_secs()
        )),
    }
}

impl Jobs {
    /// Jobs over the configured sources, answering on `tx`. Fails on a bad policy or trust
    /// file, before the terminal is touched.
    pub fn new(
        settings: &Settings,
        tx: UnboundedSender<Action>,
    ) -> Result<Jobs, crate::setup::SetupError> {
        let mut gates = HashMap::new();
        for s in &settings.sources {
            gates.insert(s.name.clone(), Arc::new(settings.gate(s, None)?));
        }
        let writer = super::writes::Writer {
            settings: Arc::new(settings.clone()),
            gates: Arc::new(gates.clone()),
            tx: tx.clone(),
            cancel: Default::default(),
        };
        Ok(Jobs {
            writer,
            writes: None,
            sources: settings
                .sources
                .iter()
                .map(|s| (s.name.clone(), s.store.clone()))
                .collect(),
            tx,
            timeout: settings.timeout,
            running: [None, None, None, None],
            gates,
            environments: settings.environments.clone(),
            clock: None,
        })
    }

    /// Starts a job, aborting the previous job of its kind.
    pub fn start(&mut self, job: Job) {
        let job = match job {
            Job::Plan { request } => return self.writer.plan(request),
            Job::Write { request } => {
                let q = self.writes.get_or_insert_with(|| self.writer.queue());
                let _ = q.send(request);
                return;
            }
            Job::Audit { source, chain } => return self.writer.audit(source, chain),
            Job::Drift => return self.writer.drift(),
            Job::Compare { a, b, files } => return self.writer.compare(a, b, files),
            Job::CompareEnvironment { environment, b } => {
                return self.writer.compare_environment(environment, b)
            }
            Job::Command(r) => return self.writer.command(r),
            Job::CancelWrite => {
                self.writer
                    .cancel
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                return;
            }
            other => other,
        };
        let tx = self.tx.clone();
        let limit = self.timeout;
        let source_name = match &job {
            Job::Repos { source, .. }
            | Job::Tags { source, .. }
            | Job::Detail { source, .. }
            | Job::Evidence { source, .. } => source.clone(),
            Job::Plan { .. }
            | Job::Write { .. }
            | Job::Audit { .. }
            | Job::CancelWrite
            | Job::Drift
            | Job::Compare { .. }
            | Job::CompareEnvironment { .. }
            | Job::Command(_) => return,
        };
        let store = self.sources.get(&source_name).cloned();
        let gate = self.gates.get(&source_name).map(|g| {
            let mut g = (**g).clone();
            g.clock = self.clock.or(g.clock);
            Arc::new(g)
        });
        let envs: Vec<crate::config::Environment> = self
            .environments
            .iter()
            .filter(|e| e.source == source_name)
            .cloned()
            .collect();
        let (slot, handle) = match job {
            Job::Repos {
                generation,
                repository_glob,
                ..
            } => {
                let audit_repo = self.writer.settings.audit_repository.clone();
                let h = tokio::spawn(async move {
                    let result = with_timeout(limit, async {
                        let store = store.ok_or_else(|| format!("unknown source {source_name}"))?;
                        let mut repos = store.list_repositories().await.map_err(describe_error)?;
                        // The audit chains are read with `a`, not browsed as images.
                        repos.retain(|r| *r != audit_repo);
                        if let Some(g) = repository_glob {
                            let m = wildmatch::WildMatch::new(
                                &g.replace(crate::config::NAME_PLACEHOLDER, "*"),
                            );
                            repos.retain(|r| m.matches(r));
                        }
                        Ok(repos)
                    })
                    .await;
                    let _ = tx.send(Action::ReposLoaded { generation, result });
                });
                (0, h)
            }
            Job::Tags {
                generation,
                repository,
                tag_glob,
                ..
            } => {
                let h = tokio::spawn(async move {
                    let listed = with_timeout(limit, async {
                        let store = store
                            .clone()
                            .ok_or_else(|| format!("unknown source {source_name}"))?;
                        let mut tags =
                            store.list_tags(&repository).await.map_err(describe_error)?;
                        // Evidence lives under tags too; it shows in the evidence tab instead.
                        tags.retain(|t| !crate::oci::is_evidence_tag(t));
                        if let Some(g) = tag_glob {
                            let m = wildmatch::WildMatch::new(&g);
                            tags.retain(|t| m.matches(t));
                        }
                        Ok(tags)
                    })
                    .await;
                    let tags = listed.clone().unwrap_or_default();
                    let _ = tx.send(Action::TagsLoaded {
                        generation,
                        result: listed,
                    });
                    let Some(store) = store else { return };
                    let store = &store;
                    let repository = &repository;
                    let mut summaries = futures::stream::iter(tags)
                        .map(|tag| async move {
                            let result = with_timeout(limit, async {
                                summarize(store.as_ref(), repository, &tag)
                                    .await
                                    .map_err(describe_error)
                            })
                            .await;
                            (tag, result)
                        })
                        .buffer_unordered(SUMMARY_CONCURRENCY);
                    let mut digests: Vec<(String, String)> = vec![];
                    while let Some((tag, result)) = summaries.next().await {
                        if let Ok(s) = &result {
                            digests.push((tag.clone(), s.digest.clone()));
                        }
                        let _ = tx.send(Action::TagSummaryLoaded {
                            generation,
                            tag,
                            result,
                        });
                    }
                    // Verdicts per tag for every environment of the source (background, bounded:
                    // the first 200 tags), each digest judged once by the gate service.
                    let Some(gate) = gate else { return };
                    let envs: Vec<crate::config::Environment> = envs
                        .into_iter()
                        .filter(|e| e.tracks_repository(repository))
                        .collect();
                    if envs.is_empty() {
                        return;
                    }
                    digests.truncate(200);
                    let mut unique: Vec<String> = digests.iter().map(|(_, d)| d.clone()).collect();
                    unique.sort();
                    unique.dedup();
                    let (gate, envs, digests) = (&gate, &envs, &digests);
                    let tx = &tx;
                    futures::stream::iter(unique)
                        .for_each_concurrent(4, |digest| async move {
                            let j = gate.judge(store.as_ref(), repository, &digest, envs).await;
                            let result: Vec<(String, crate::policy::Decision)> = j
                                .verdicts
                                .iter()
                                .map(|v| (v.environment.clone(), v.decision))
                                .collect();
                            for (tag, _) in digests.iter().filter(|(_, x)| *x == digest) {
                                let _ = tx.send(Action::TagVerdictsLoaded {
                                    generation,
                                    tag: tag.clone(),
                                    result: result.clone(),
                                });
                            }
                        })
                        .await;
                });
                (1, h)
            }
            Job::Detail {
                generation,
                repository,
                reference,
                known_tags,
                ..
            } => {
                let h = tokio::spawn(async move {
                    let result = with_timeout(limit, async {
                        let store = store.ok_or_else(|| format!("unknown source {source_name}"))?;
                        let (tag, digest) = if reference.starts_with("sha256:") {
                            (None, Some(reference))
                        } else {
                            (Some(reference), None)
                        };
                        let r = ArtifactRef {
                            registry: String::new(),
                            repository,
                            tag,
                            digest,
                        };
                        let known = (!known_tags.is_empty()).then_some(known_tags.as_slice());
                        describe(store.as_ref(), &r, known)
                            .await
                            .map(Box::new)
                            .map_err(describe_error)
                    })
                    .await;
                    let _ = tx.send(Action::DetailLoaded { generation, result });
                });
                (2, h)
            }
            Job::Evidence {
                generation,
                repository,
                digest,
                index,
                ..
            } => {
                let h = tokio::spawn(async move {
                    let result = with_timeout(limit, async {
                        let store = store.ok_or_else(|| format!("unknown source {source_name}"))?;
                        let gate = gate.ok_or_else(|| format!("no gate for {source_name}"))?;
                        let envs: Vec<crate::config::Environment> = envs
                            .into_iter()
                            .filter(|e| e.tracks_repository(&repository))
                            .collect();
                        let j = match &index {
                            Some(i) => {
                                gate.judge_platform(store.as_ref(), &repository, &digest, i, &envs)
                                    .await
                            }
                            None => {
                                gate.judge(store.as_ref(), &repository, &digest, &envs)
                                    .await
                            }
                        };
                        Ok(Box::new(j))
                    })
                    .await;
                    let _ = tx.send(Action::EvidenceLoaded { generation, result });
                });
                (3, h)
            }
            Job::Plan { .. }
            | Job::Write { .. }
            | Job::Audit { .. }
            | Job::CancelWrite
            | Job::Drift
            | Job::Compare { .. }
            | Job::CompareEnvironment { .. }
            | Job::Command(_) => return,
        };
        if let Some(old) = self.running[slot].replace(handle.abort_handle()) {
            old.abort();
        }
    }
}
