//! Carrying out a plan. The order is what makes a kill harmless: the copy and the
//! re-verification change nothing anyone reads by tag; the record names the move before it
//! happens (a second run finds it and reuses it); the tag moves last, compare-and-swap.

use super::{named, Plan, State};
use crate::evidence::record::{Link, Place, Promotion, Record, Verification, VSA_V1};
use crate::oci::Store;
use crate::policy::Decision;
use crate::release::record::{self, Draft, Signing};
use crate::release::transfer::{self, Progress};
use crate::setup::Settings;

/// Where a run is, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Copying(Progress),
    Verifying,
    Recording,
    MovingTag,
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub digest: String,
    pub repository: String,
    pub tag: String,
    pub previous: Option<String>,
    pub copied: Option<transfer::Copied>,
    /// The promotion record (written now, or reused from a stopped run).
    pub record: Option<String>,
    pub reused_record: bool,
    /// The destination's own verdict.
    pub decision: Option<Decision>,
    pub nothing_to_do: bool,
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// What a cancelled run says: nothing anyone reads by tag or chain changed.
pub const CANCELLED: &str =
    "cancelled before the record and the tag: nothing anyone reads by tag or chain changed";

/// Does what `plan` says, signing the record with `signing`. Refuses a plan with a refusal.
/// `progress` returning false cancels the run, up to the record (after it, the run completes).
pub async fn run(
    settings: &Settings,
    plan: &Plan,
    signing: &Signing<'_>,
    policy: Option<&std::path::Path>,
    progress: &(dyn Fn(Step) -> bool + Send + Sync),
) -> Result<Outcome, String> {
    if let Some(r) = &plan.refusal {
        return Err(r.message.clone());
    }
    let route = &plan.route;
    let mut out = Outcome {
        digest: plan.digest.clone(),
        repository: route.dst_repo.clone(),
        tag: route.tag.clone(),
        previous: plan.previous.clone(),
        copied: None,
        record: None,
        reused_record: false,
        decision: None,
        nothing_to_do: false,
    };
    if plan.state == State::Done {
        out.nothing_to_do = true;
        return Ok(out);
    }
    let src = named(settings, &route.src_source)?;
    let dst = named(settings, &route.dst_source)?;
    // 1. Copy: content first, manifests after what they list, referrers after their subject.
    let copied = transfer::copy(
        &plan.transfer,
        src.store.as_ref(),
        &route.src_repo,
        dst.store.as_ref(),
        &route.dst_repo,
        plan.same_store(),
        &|p| progress(Step::Copying(p)),
    )
    .await
    .map_err(|e| err("copying", e))?
    .ok_or_else(|| CANCELLED.to_string())?;
    out.copied = Some(copied);
    crate::failpoint::hit("promote-copied");
    // What the destination serves must be what was read at the source, by digest: every
    // manifest read back, every small blob (configs, evidence, record bundles) read back and
    // hashed, every large one asked for. A destination that says "already there" for what it
    // never received is found here.
    check_destination(dst.store.as_ref(), &route.dst_repo, &plan.transfer).await?;
    // 2. Re-verify from what the destination serves: the same gate, the same decision.
    if !progress(Step::Verifying) {
        return Err(CANCELLED.into());
    }
    let gate = settings.gate(dst, policy).map_err(|e| e.to_string())?;
    let judged = gate
        .judge(
            dst.store.as_ref(),
            &route.dst_repo,
            &plan.digest,
            std::slice::from_ref(&route.to),
        )
        .await;
    let verdict = judged
        .verdicts
        .first()
        .ok_or_else(|| "the destination's gate gave no verdict".to_string())?;
    out.decision = Some(verdict.decision);
    if verdict.decision != plan.verdict.decision {
        return Err(format!(
            "re-verified at the destination the {} gate says {} where the source said {}; the tag was not moved",
            route.to.name,
            verdict.decision.label(),
            plan.verdict.decision.label()
        ));
    }
    // The same label is not enough: the destination must judge exactly as the source did,
    // finding by finding (a destination that lost or swapped a blob warns as the source may).
    let differ = findings_differ(&plan.verdict, verdict);
    if !differ.is_empty() {
        return Err(format!(
            "re-verified at the destination the {} gate judges otherwise than at the source ({}); the tag was not moved",
            route.to.name,
            differ.join("; ")
        ));
    }
    crate::failpoint::hit("promote-verified");
    // 3. The record, unless a stopped run already wrote exactly this one.
    if !progress(Step::Recording) {
        return Err(CANCELLED.into());
    }
    match &plan.state {
        State::Resume { record } => {
            out.record = Some(record.clone());
            out.reused_record = true;
        }
        _ => {
            let draft = draft(settings, plan, verdict, &gate, dst)
                .await
                .map_err(|e| err("reading the destination", e))?;
            let chains = settings.chains()?;
            let written = record::write_to(
                chains.ledger.store.as_ref(),
                &chains.ledger.repository,
                dst.store.as_ref(),
                &draft,
                signing,
            )
            .await
            .map_err(|e| err("writing the promotion record", e))?;
            out.record = Some(written.record);
        }
    }
    crate::failpoint::hit("promote-recorded");
    // 4. The tag, last: it must still name what the plan saw.
    progress(Step::MovingTag);
    move_tag(dst.store.as_ref(), plan).await?;
    crate::failpoint::hit("promote-tagged");
    if let Some(rec) = &out.record {
        mark_done(settings, &route.to.name, rec).await?;
    }
    if let Some(dir) = crate::config::paths::cache_dir() {
        crate::oci::disk::invalidate(&dir, dst.store.name(), &route.dst_repo);
    }
    if let Ok(c) = settings.chains() {
        c.forget();
    }
    Ok(out)
}

/// Tags the record as completed in the ledger (`done-<chain>-<hex>`), so a later move back
/// to the same digest is an act of its own, never a "resume" of this one.
async fn mark_done(settings: &Settings, chain: &str, record: &str) -> Result<(), String> {
    let chains = settings.chains()?;
    let (store, repo) = (chains.ledger.store.as_ref(), &chains.ledger.repository);
    let m = store
        .get_manifest(repo, record)
        .await
        .map_err(|e| err("reading the promotion record back", e))?;
    store
        .put_manifest(
            repo,
            Some(&super::done_tag(chain, record)),
            &m.media_type,
            &m.bytes,
        )
        .await
        .map_err(|e| {
            err(
                "the tag moved, but marking its record done failed (a later run may offer to reuse it)",
                e,
            )
        })?;
    Ok(())
}

/// Blobs read back whole after a copy (larger ones are asked for with HEAD).
const READ_BACK: u64 = 1 << 20;

async fn manifest_back(dst: &impl Store, repo: &str, n: &transfer::Node) -> Result<(), String> {
    let short = crate::oci::digest::short;
    match dst.get_manifest(repo, &n.manifest.digest).await {
        Ok(m) if m.bytes == n.manifest.bytes => Ok(()),
        Ok(_) => Err(format!(
            "manifest {} reads back other bytes",
            short(&n.manifest.digest)
        )),
        Err(e) => Err(format!("manifest {}: {e}", short(&n.manifest.digest))),
    }
}

async fn blob_back(
    dst: &impl Store,
    repo: &str,
    b: &crate::oci::media::Descriptor,
) -> Result<(), String> {
    let short = crate::oci::digest::short;
    if b.size <= READ_BACK {
        return dst
            .get_blob(repo, &b.digest, READ_BACK)
            .await
            .map(|_| ())
            .map_err(|e| format!("blob {}: {e}", short(&b.digest)));
    }
    match dst.has_blob(repo, &b.digest).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("blob {} is not there", short(&b.digest))),
        Err(e) => Err(format!("blob {}: {e}", short(&b.digest))),
    }
}

async fn check_destination(
    dst: &impl Store,
    repo: &str,
    t: &transfer::Transfer,
) -> Result<(), String> {
    let mut wrong: Vec<String> = vec![];
    for chunk in t.manifests.chunks(8) {
        let r = futures::future::join_all(chunk.iter().map(|n| manifest_back(dst, repo, n))).await;
        wrong.extend(r.into_iter().filter_map(Result::err));
    }
    for chunk in t.blobs.chunks(8) {
        let r = futures::future::join_all(chunk.iter().map(|b| blob_back(dst, repo, b))).await;
        wrong.extend(r.into_iter().filter_map(Result::err));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the destination does not serve what was copied ({}); the tag was not moved",
            wrong.into_iter().take(5).collect::<Vec<_>>().join("; ")
        ))
    }
}

/// The findings whose outcome at the destination is not the source's, in words.
fn findings_differ(src: &crate::policy::Verdict, dst: &crate::policy::Verdict) -> Vec<String> {
    use std::collections::BTreeMap;
    let outcomes = |v: &crate::policy::Verdict| -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in &v.findings {
            m.entry(f.rule.clone())
                .or_default()
                .push(format!("{:?}", f.outcome).to_lowercase());
        }
        m
    };
    let (a, b) = (outcomes(src), outcomes(dst));
    let mut out = vec![];
    for rule in a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (x, y) = (a.get(rule), b.get(rule));
        if x != y {
            let show =
                |o: Option<&Vec<String>>| o.map(|v| v.join("+")).unwrap_or_else(|| "none".into());
            let msg = dst
                .findings
                .iter()
                .find(|f| &f.rule == rule)
                .map(|f| format!(": {}", f.message))
                .unwrap_or_default();
            out.push(format!(
                "{rule} {} at the source, {} at the destination{msg}",
                show(x),
                show(y)
            ));
        }
    }
    out
}

async fn current(store: &impl Store, repo: &str, tag: &str) -> Result<Option<String>, String> {
    match store.resolve(repo, tag).await {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(err(&format!("reading {repo}:{tag}"), e)),
    }
}

/// Compare-and-swap by re-reading just before and just after the PUT.
async fn move_tag(store: &impl Store, plan: &Plan) -> Result<(), String> {
    let (repo, tag) = (&plan.route.dst_repo, &plan.route.tag);
    let show = |d: &Option<String>| {
        d.as_deref()
            .map(|d| crate::oci::digest::short(d).to_string())
            .unwrap_or_else(|| "nothing".to_string())
    };
    let before = current(store, repo, tag).await?;
    if before != plan.previous {
        return Err(format!(
            "{repo}:{tag} moved to {} since the plan (which saw {}): stopped before moving it; run again to plan anew",
            show(&before),
            show(&plan.previous)
        ));
    }
    let root = plan
        .transfer
        .manifests
        .iter()
        .find(|n| n.manifest.digest == plan.digest)
        .ok_or_else(|| "the plan holds no manifest for the digest".to_string())?;
    let written = match store
        .put_manifest(
            repo,
            Some(tag),
            &root.manifest.media_type,
            &root.manifest.bytes,
        )
        .await
    {
        Ok(d) => d,
        // A 5xx may come from a registry that stored the tag and failed to say so: what the
        // tag names is read back below before the move is called failed.
        Err(crate::oci::OciError::Registry { status, .. }) if status >= 500 => plan.digest.clone(),
        Err(e) => return Err(err(&format!("moving {repo}:{tag}"), e)),
    };
    let after = current(store, repo, tag).await?;
    if after.as_deref() != Some(plan.digest.as_str()) || written != plan.digest {
        return Err(format!(
            "{repo}:{tag} names {} right after the move (another writer?): check `provost drift`",
            show(&after)
        ));
    }
    Ok(())
}

/// The promotion record: both ends, the tag's previous digest, the reason, and the
/// destination gate's verdict as a SLSA verification summary.
async fn draft(
    settings: &Settings,
    plan: &Plan,
    verdict: &crate::policy::Verdict,
    gate: &crate::gate::Gate,
    dst: &crate::setup::NamedSource,
) -> crate::oci::Result<Draft> {
    let route = &plan.route;
    let now = chrono::Utc::now();
    let (subject, _) =
        record::subject_of(dst.store.as_ref(), &route.dst_repo, &plan.digest).await?;
    let src_name = named(settings, &route.src_source)
        .map(|s| s.store.name().to_string())
        .unwrap_or_else(|_| route.src_source.clone());
    let host = dst.store.name().to_string();
    let policy = record::policy_ref(
        &gate.policy.origin,
        &crate::release::act::policy_text(&gate.policy.origin),
    );
    let mut inputs: Vec<serde_json::Value> = vec![];
    for d in verdict
        .findings
        .iter()
        .filter_map(|f| f.evidence.as_deref())
    {
        if inputs
            .iter()
            .any(|i| i["digest"]["sha256"] == d.trim_start_matches("sha256:"))
        {
            continue;
        }
        inputs.push(serde_json::json!({
            "uri": format!("oci://{host}/{}@{d}", route.dst_repo),
            "digest": {"sha256": d.trim_start_matches("sha256:")},
        }));
    }
    let result = if verdict.decision == Decision::Block {
        "FAILED"
    } else {
        "PASSED"
    };
    let vsa = serde_json::json!({
        "verifier": {
            "id": "https://provost.dev/verifier/gate",
            "version": {"provost": env!("CARGO_PKG_VERSION")},
        },
        "timeVerified": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "resourceUri": format!("oci://{host}/{}@{}", route.dst_repo, plan.digest),
        "policy": {"uri": policy.uri, "digest": policy.digest},
        "inputAttestations": inputs,
        "verificationResult": result,
        "verifiedLevels": [format!(
            "PROVOST_{}_{}",
            route.to.tier.to_string().to_uppercase(),
            match verdict.decision {
                Decision::Pass => "PASS",
                Decision::Warn => "WARN",
                Decision::Block => "BLOCK",
            }
        )],
        "slsaVersion": "1.0",
    });
    let place = |env: &crate::config::Environment, registry: &str, repository: &str| Place {
        environment: env.name.clone(),
        registry: registry.to_string(),
        repository: repository.to_string(),
    };
    Ok(Draft {
        repository: route.dst_repo.clone(),
        subject,
        children: vec![],
        record: Record::Promotion(Promotion {
            action: route.action,
            from: place(&route.from, &src_name, &route.src_repo),
            to: place(&route.to, &host, &route.dst_repo),
            digest: plan.digest.clone(),
            tag: route.tag.clone(),
            previous_digest: plan.previous.clone(),
            override_reason: plan.override_reason.clone(),
            skipped: plan.skipped.clone(),
            verification: Verification {
                predicate_type: VSA_V1.into(),
                predicate: vsa,
            },
            link: Link {
                chain: route.to.name.clone(),
                previous: None,
                time: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                reason: plan.reason.clone(),
            },
        }),
    })
}
