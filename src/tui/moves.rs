//! The console's promotions and rollbacks: the same `release::promote` plan and run the CLI
//! uses. The confirm dialog shows the plan's lines; the run reports each step (blobs n/m and
//! bytes, referrers, re-verify, record, tag) and can be cancelled until the record is written.

use super::action::Action;
use super::modal::{Plan, Request};
use super::writes::Writer;
use crate::release::act::Kind;
use crate::release::promote::{self, Route, State, Step};
use crate::release::record::Signing;
use std::sync::atomic::Ordering;

impl Writer {
    /// Where the move goes, and for a rollback which digest it goes back to.
    async fn route_of(&self, r: &Request) -> Result<(Route, String), String> {
        match &r.kind {
            Kind::Promote { to } => Ok((
                promote::route(&self.settings, &r.source, &r.repository, to)?,
                r.digest.clone(),
            )),
            Kind::Rollback { environment } => {
                use crate::oci::Store;
                let route = promote::rollback_route(&self.settings, environment, &r.repository)?;
                let (src, gate) = self.parts(&route.dst_source)?;
                if let Ok(c) = self.settings.chains() {
                    c.forget();
                }
                let walk = gate.chain(environment).await?;
                let current = src.store.resolve(&r.repository, &route.tag).await.ok();
                let target = promote::rollback_target(
                    &walk,
                    &gate,
                    &r.repository,
                    current.as_deref(),
                    None,
                    1,
                )?;
                Ok((route, target))
            }
            _ => Err("not a promotion".into()),
        }
    }

    async fn move_plan(&self, r: &Request) -> Result<promote::Plan, String> {
        let (route, digest) = self.route_of(r).await?;
        let plan = promote::plan(&self.settings, route, &digest, &r.reason, None, None).await?;
        if let Some(refusal) = &plan.refusal {
            return Err(refusal.message.clone());
        }
        if plan.state == State::Done {
            return Err(format!(
                "nothing to do: {}:{} already names it",
                plan.route.dst_repo, plan.route.tag
            ));
        }
        Ok(plan)
    }

    /// The confirm dialog's plan of a promotion or rollback.
    pub(super) async fn plan_move(&self, r: &Request) -> Result<Plan, String> {
        let plan = self.move_plan(r).await?;
        let (source, gate) = self.parts(&plan.route.dst_source)?;
        let (signer, needs_passphrase) = self.signer(&source, &gate, r)?;
        Ok(Plan {
            signer: signer.clone(),
            statement: promote::plan_lines(
                &plan,
                &signer,
                &promote::ledger_words(&self.settings, &plan),
            ),
            title: "the plan:".into(),
            destination: format!(
                "moves {}:{} in {}, recorded in chain {} of {}",
                plan.route.dst_repo,
                plan.route.tag,
                plan.route.dst_source,
                plan.route.to.name,
                promote::ledger_words(&self.settings, &plan)
            ),
            needs_passphrase,
            previous: Some(plan.previous.clone()),
        })
    }

    /// Plans again (the registry may have changed since the confirmation), refuses if the tag
    /// moved since what was confirmed, and runs it.
    pub(super) async fn write_move(&self, r: &Request) -> Result<String, String> {
        self.cancel.store(false, Ordering::SeqCst);
        let plan = self.move_plan(r).await?;
        if let Some(expected) = &r.expect_previous {
            if *expected != plan.previous {
                return Err(format!(
                    "{}:{} moved since you confirmed: plan again",
                    plan.route.dst_repo, plan.route.tag
                ));
            }
        }
        let (source, gate) = self.parts(&plan.route.dst_source)?;
        let key = self.opened_key(&source, &gate, r)?;
        let tsa = self.settings.timestamp_server.clone();
        let signing = Signing::Key {
            key: &key,
            timestamp_url: tsa.as_deref(),
            rekor_url: self.settings.rekor_url.as_deref(),
        };
        let tx = self.tx.clone();
        let cancel = self.cancel.clone();
        let progress = move |s: Step| {
            let cancellable = matches!(s, Step::Copying(_) | Step::Verifying);
            let _ = tx.send(Action::WriteProgress {
                text: step_words(s),
                cancellable,
            });
            !cancel.load(Ordering::SeqCst)
        };
        let out = promote::run(&self.settings, &plan, &signing, None, &progress).await?;
        Ok(out.record.unwrap_or_default())
    }
}

impl Writer {
    /// Finds the environment tags moved outside provost (errors leave the marks as they were:
    /// `provost drift` says why).
    pub fn drift(&self) {
        let w = self.clone();
        tokio::spawn(async move {
            if let Ok(rows) = promote::drift(&w.settings, &[]).await {
                let drifted = rows
                    .into_iter()
                    .filter(|r| {
                        matches!(
                            r.state,
                            promote::DriftState::Drifted | promote::DriftState::Missing
                        )
                    })
                    .map(|r| (r.environment, r.repository))
                    .collect();
                let _ = w.tx.send(Action::DriftLoaded(drifted));
            }
        });
    }
}

/// A step, as the status line shows it.
pub fn step_words(s: Step) -> String {
    match s {
        Step::Copying(p) if p.manifests_done == 0 => format!(
            "copying blobs {}/{} ({} of {}) · esc cancels",
            p.blobs_done,
            p.blobs,
            promote::size(p.bytes_done),
            promote::size(p.bytes)
        ),
        Step::Copying(p) => format!(
            "copying manifests and referrers {}/{} · esc cancels",
            p.manifests_done, p.manifests
        ),
        Step::Verifying => "re-verifying at the destination · esc cancels".into(),
        Step::Recording => "writing the promotion record".into(),
        Step::MovingTag => "moving the tag".into(),
    }
}
