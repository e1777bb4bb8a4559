//! Dialogs for writes: compose (reason, environment, key) → confirm (exactly what will be
//! signed, and by whom) → passphrase when the key is encrypted (masked, zeroized) → the write
//! runs in the background queue, with a progress line and a toast. `update` stays free of I/O:
//! planning and writing are jobs.

use super::app::{App, Job, Slot};
use crate::release::act::Kind;
use zeroize::Zeroizing;

/// A key typed into a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModalKey {
    Char(char),
    Backspace,
    Enter,
    Esc,
    Tab,
    BackTab,
}

/// A passphrase: zeroized when dropped, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub Zeroizing<String>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What to record, about which digest, signed with which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub kind: Kind,
    pub source: String,
    pub repository: String,
    pub digest: String,
    pub reason: String,
    /// The key spec (a path or `demo:NAME`) and its label.
    pub key: String,
    pub key_label: String,
    pub passphrase: Option<Secret>,
    /// For a promotion: what the tag named in the plan that was confirmed.
    pub expect_previous: Option<Option<String>>,
    /// More digests the same kind of record is written for, one record each (a quarantine
    /// of `:find` results).
    pub also: Vec<Target>,
}

/// A digest a record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub source: String,
    pub repository: String,
    pub digest: String,
}

impl Request {
    /// Every digest the request writes a record for, this one first.
    pub fn targets(&self) -> Vec<Target> {
        let mut v = vec![Target {
            source: self.source.clone(),
            repository: self.repository.clone(),
            digest: self.digest.clone(),
        }];
        v.extend(self.also.iter().cloned());
        v
    }

    /// The request for one of its targets alone.
    pub fn for_target(&self, t: &Target) -> Request {
        Request {
            source: t.source.clone(),
            repository: t.repository.clone(),
            digest: t.digest.clone(),
            also: vec![],
            ..self.clone()
        }
    }
}

/// What the confirm dialog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Who will sign, in words.
    pub signer: String,
    /// The statement, pretty JSON, line by line (for a promotion, the plan's lines).
    pub statement: Vec<String>,
    /// What the lines are.
    pub title: String,
    /// Where it goes.
    pub destination: String,
    /// The key is encrypted: a passphrase is asked after the confirmation.
    pub needs_passphrase: bool,
    /// For a promotion: what the tag names now (None: it does not exist).
    pub previous: Option<Option<String>>,
}

/// One record of a chain, as the audit view lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub verified: bool,
    pub who: String,
    /// When, as the signer claims it (minutes).
    pub when: String,
    /// A timestamp or log entry proves the time.
    pub proven_time: bool,
    pub what: String,
    pub digest: String,
    pub reason: String,
}

/// An environment's chain, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditView {
    pub chain: String,
    pub rows: Vec<AuditRow>,
    pub problems: Vec<String>,
}

/// The dialog on top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modal {
    /// Typing the reason; tab picks the environment, shift-tab the key.
    Compose {
        request: Request,
        environments: Vec<String>,
        keys: Vec<(String, String)>,
    },
    /// Waiting for the plan.
    Planning { request: Request },
    /// Showing the plan; ⏎ or y signs, esc cancels.
    Confirm {
        request: Request,
        plan: Plan,
        scroll: usize,
    },
    /// The key's passphrase, masked.
    Passphrase { request: Request, input: Secret },
}

impl App {
    /// What a write is about (source, repository, digest of the artifact shown), or a toast
    /// saying why nothing can be written.
    fn write_target(&mut self) -> Option<(String, String, String)> {
        if self.read_only {
            self.toast(
                true,
                "read-only: writes are refused (--read-only or read_only = true)",
            );
            return None;
        }
        let (Some(source), Some(repository), Some(a)) = (
            self.active_source(),
            self.active_repo.clone(),
            self.detail.ready(),
        ) else {
            self.toast(true, "open an artifact first (⏎ on a tag)");
            return None;
        };
        let digest = a.digest.clone();
        Some((source, repository, digest))
    }

    /// Opens the compose dialog for `kind` on the artifact shown.
    pub(super) fn compose(&mut self, approve: bool, flag: bool) -> Vec<Job> {
        let Some((source, repository, digest)) = self.write_target() else {
            return vec![];
        };
        let environments: Vec<String> = self
            .environments
            .iter()
            .filter(|e| e.source == source)
            .map(|e| e.name.clone())
            .collect();
        // Start on the environment being browsed, else the strictest one.
        let env = self
            .active_environment()
            .map(|e| e.name.clone())
            .or_else(|| environments.last().cloned())
            .unwrap_or_default();
        let kind = if approve {
            Kind::Approve {
                environment: env,
                reject: flag,
                not_after: None,
            }
        } else {
            Kind::Quarantine { lift: flag }
        };
        self.open_compose((source, repository, digest), kind, environments)
    }

    /// Opens the compose dialog for `kind`, signed by the source's first key (for a
    /// quarantine, the demo's carol, whose job it is); shift-tab picks another.
    pub(super) fn open_compose(
        &mut self,
        (source, repository, digest): (String, String, String),
        kind: Kind,
        environments: Vec<String>,
    ) -> Vec<Job> {
        let keys = self
            .signers
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, k)| k.clone())
            .unwrap_or_default();
        let preferred = match &kind {
            Kind::Quarantine { .. } => keys.iter().position(|(_, k)| k == "demo:carol"),
            _ => None,
        };
        let Some((key_label, key)) = keys.get(preferred.unwrap_or(0)).cloned() else {
            self.toast(
                true,
                "no key to sign with: set signing_key in provost.toml (or sign from the CLI with --key)",
            );
            return vec![];
        };
        self.modal = Some(Modal::Compose {
            request: Request {
                kind,
                source,
                repository,
                digest,
                reason: String::new(),
                key,
                key_label,
                passphrase: None,
                expect_previous: None,
                also: vec![],
            },
            environments,
            keys,
        });
        vec![]
    }

    /// Opens the compose dialog for a promotion (to the next environment on the path; tab
    /// picks another when several promote from here) or a rollback of the environment browsed.
    pub(super) fn compose_move(&mut self, promote: bool) -> Vec<Job> {
        let Some((source, repository, digest)) = self.write_target() else {
            return vec![];
        };
        let here = self.active_environment().cloned();
        let (kind, environments) = if promote {
            let targets: Vec<String> = self
                .environments
                .iter()
                .filter(|e| match (&e.promotes_from, &here) {
                    (Some(f), Some(h)) => *f == h.name,
                    (Some(f), None) => self.environments.iter().any(|x| {
                        x.name == *f && x.source == source && x.tracks_repository(&repository)
                    }),
                    (None, _) => false,
                })
                .map(|e| e.name.clone())
                .collect();
            let Some(to) = targets.first().cloned() else {
                self.toast(
                    true,
                    "nothing promotes from here (give an environment `promotes_from` in provost.toml)",
                );
                return vec![];
            };
            (Kind::Promote { to }, targets)
        } else {
            let Some(env) = here.filter(|e| e.moving_tag().is_some()) else {
                self.toast(true, "open an environment (its tag) to roll it back");
                return vec![];
            };
            (
                Kind::Rollback {
                    environment: env.name.clone(),
                },
                vec![env.name.clone()],
            )
        };
        self.open_compose((source, repository, digest), kind, environments)
    }

    /// A key typed into the open dialog.
    pub(super) fn modal_key(&mut self, k: ModalKey) -> Vec<Job> {
        let Some(modal) = self.modal.take() else {
            return vec![];
        };
        match (modal, k) {
            (_, ModalKey::Esc) => {
                self.toast(false, "cancelled: nothing was written");
            }
            (
                Modal::Compose {
                    mut request,
                    environments,
                    keys,
                },
                k,
            ) => {
                match k {
                    ModalKey::Char(c)
                        if !c.is_control() && request.reason.chars().count() < 500 =>
                    {
                        request.reason.push(c)
                    }
                    ModalKey::Backspace => {
                        request.reason.pop();
                    }
                    ModalKey::Tab => {
                        if let Kind::Approve { environment, .. }
                        | Kind::Promote { to: environment } = &mut request.kind
                        {
                            let i = environments.iter().position(|e| e == environment);
                            if let Some(next) = environments
                                .get(i.map(|i| (i + 1) % environments.len()).unwrap_or(0))
                            {
                                *environment = next.clone();
                            }
                        }
                    }
                    ModalKey::BackTab => {
                        let i = keys
                            .iter()
                            .position(|(_, k)| *k == request.key)
                            .unwrap_or(0);
                        if let Some((label, key)) = keys.get((i + 1) % keys.len().max(1)) {
                            request.key = key.clone();
                            request.key_label = label.clone();
                        }
                    }
                    ModalKey::Enter => {
                        if matches!(request.kind, Kind::Quarantine { .. })
                            && request.reason.trim().is_empty()
                        {
                            self.toast(true, "a quarantine needs a reason");
                        } else {
                            self.modal = Some(Modal::Planning {
                                request: request.clone(),
                            });
                            return vec![Job::Plan { request }];
                        }
                    }
                    _ => {}
                }
                self.modal = Some(Modal::Compose {
                    request,
                    environments,
                    keys,
                });
            }
            (m @ Modal::Planning { .. }, _) => self.modal = Some(m),
            (
                Modal::Confirm {
                    request,
                    plan,
                    scroll,
                },
                k,
            ) => match k {
                ModalKey::Enter | ModalKey::Char('y') => {
                    let mut request = request;
                    request.expect_previous = plan.previous.clone();
                    if plan.needs_passphrase {
                        self.modal = Some(Modal::Passphrase {
                            request,
                            input: Secret::default(),
                        });
                    } else {
                        return self.write(request);
                    }
                }
                ModalKey::Char('j') | ModalKey::Tab => {
                    self.modal = Some(Modal::Confirm {
                        request,
                        scroll: (scroll + 1).min(plan.statement.len()),
                        plan,
                    })
                }
                ModalKey::Char('k') | ModalKey::BackTab => {
                    self.modal = Some(Modal::Confirm {
                        request,
                        plan,
                        scroll: scroll.saturating_sub(1),
                    })
                }
                ModalKey::Char('n') => self.toast(false, "cancelled: nothing was written"),
                _ => {
                    self.modal = Some(Modal::Confirm {
                        request,
                        plan,
                        scroll,
                    })
                }
            },
            (
                Modal::Passphrase {
                    mut request,
                    mut input,
                },
                k,
            ) => {
                match k {
                    ModalKey::Enter => {
                        request.passphrase = Some(input);
                        return self.write(request);
                    }
                    ModalKey::Char(c) if !c.is_control() && input.0.len() < 1024 => input.0.push(c),
                    ModalKey::Backspace => {
                        input.0.pop();
                    }
                    _ => {}
                }
                self.modal = Some(Modal::Passphrase { request, input });
            }
        }
        vec![]
    }

    fn write(&mut self, request: Request) -> Vec<Job> {
        self.writing = Some(format!(
            "signing and writing: {} {}@{}",
            request.kind.words(),
            request.repository,
            crate::oci::digest::short(&request.digest)
        ));
        vec![Job::Write { request }]
    }

    /// The plan arrived: confirm it, or say why it cannot be written.
    pub(super) fn planned(&mut self, request: Request, result: Result<Plan, String>) {
        if !matches!(&self.modal, Some(Modal::Planning { request: r }) if *r == request) {
            return;
        }
        match result {
            Ok(plan) => {
                self.modal = Some(Modal::Confirm {
                    request,
                    plan,
                    scroll: 0,
                })
            }
            Err(e) => {
                self.modal = None;
                self.toast(true, format!("not written: {e}"));
            }
        }
    }

    /// A write finished: say so and reload what it changed.
    pub(super) fn written(&mut self, request: Request, result: Result<String, String>) -> Vec<Job> {
        self.writing = None;
        self.quit_armed = false;
        match result {
            Ok(record) => {
                if request.also.is_empty() {
                    self.toast(
                        false,
                        format!(
                            "✓ {} {}: record {}",
                            request.kind.words(),
                            crate::oci::digest::short(&request.digest),
                            crate::oci::digest::short(&record)
                        ),
                    );
                } else {
                    // A batch: the sentence says how each went.
                    self.toast(false, record);
                }
                let shown = self.detail.ready().map(|a| a.digest.clone());
                let mut jobs = vec![];
                if shown.as_deref() == Some(request.digest.as_str())
                    || self
                        .detail_view
                        .stack
                        .iter()
                        .any(|p| p.digest == request.digest)
                {
                    jobs.extend(self.load_evidence());
                }
                if self.audit.is_some() {
                    jobs.extend(self.load_audit());
                }
                jobs.extend(self.results_reload());
                jobs
            }
            Err(e) => {
                self.toast(true, format!("not written: {e}"));
                // A batch may have written some: the results say which are quarantined now.
                if request.also.is_empty() {
                    vec![]
                } else {
                    self.results_reload()
                }
            }
        }
    }

    /// Opens (or closes) the audit view of the environment being browsed (else prod, or the
    /// quarantine chain when no environment is configured).
    pub(super) fn toggle_audit(&mut self) -> Vec<Job> {
        if self.audit.take().is_some() {
            return vec![];
        }
        self.load_audit()
    }

    fn load_audit(&mut self) -> Vec<Job> {
        let env = self
            .active_environment()
            .cloned()
            .or_else(|| self.environments.last().cloned());
        let (source, chain) = match env {
            Some(e) => (e.source.clone(), e.name.clone()),
            None => match self.active_source() {
                Some(s) => (s, crate::evidence::record::QUARANTINE_CHAIN.to_string()),
                None => return vec![],
            },
        };
        self.audit = Some(Slot::Loading);
        vec![Job::Audit { source, chain }]
    }

    /// The audit view arrived.
    pub(super) fn audit_loaded(&mut self, result: Result<Box<AuditView>, String>) {
        if self.audit.is_some() {
            self.audit = Some(result.into());
        }
    }
}
