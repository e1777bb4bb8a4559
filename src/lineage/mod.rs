//! Lineage diff: what changed between two digests, section by section — identity, provenance
//! (verified, or marked unverified), signers, SBOM packages, layers (per platform for an index),
//! config, and the verdicts per environment. Both sides are read with the same gate, so the
//! verdict section says exactly what `provost gate` would.

pub mod files;
pub mod read;
pub mod render;
mod targuard;
mod zstd;

pub use read::{compare_digests, Files, Input, Options};

use crate::evidence::{provenance_of, sboms_of, EvidenceItem, Kind, Provenance};
use crate::gate::Judgement;
use crate::oci::artifact::Artifact;
use crate::policy::packages::Denial;
use serde::Serialize;
use std::collections::BTreeMap;

/// One side of a diff, as read.
pub struct Side {
    pub artifact: Artifact,
    pub judgement: Judgement,
    /// The policy's denied-packages rules: (rule name, denial), to flag packages.
    pub denials: Vec<(String, Denial)>,
}

/// The denied-packages rules of a policy, parsed.
pub fn denials(policy: &crate::policy::PolicyFile) -> Vec<(String, Denial)> {
    policy
        .rule
        .iter()
        .filter(|r| r.kind == crate::policy::RuleKind::DeniedPackages)
        .flat_map(|r| {
            r.deny
                .iter()
                .filter_map(|d| Denial::parse(d).ok())
                .map(|d| (r.name.clone(), d))
        })
        .collect()
}

/// How a row differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
    /// The same on both sides (kept for the console's toggle; never in JSON).
    Unchanged,
}

impl Change {
    pub fn mark(self) -> &'static str {
        match self {
            Change::Added => "+",
            Change::Removed => "-",
            Change::Changed => "~",
            Change::Unchanged => "=",
        }
    }
}

/// One difference: a key and its value on each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub change: Change,
    pub key: String,
    pub a: Option<String>,
    pub b: Option<String>,
    /// What the change means, when provost can say (version up or down, a compare link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One section: its differences and how many values were the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Section {
    pub name: String,
    pub rows: Vec<Row>,
    pub unchanged: usize,
    /// A caveat for the whole section (unverified evidence, nothing to compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Counts and flags for the whole section (per ecosystem, denied packages).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub summary: Vec<String>,
    /// The rows that are the same on both sides (the console shows them on request).
    #[serde(skip)]
    pub same: Vec<Row>,
}

/// The whole diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub a: String,
    pub b: String,
    pub identical: bool,
    pub sections: Vec<Section>,
}

/// Compares `key → value` maps into rows; returns (rows, unchanged).
fn compare(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    note: impl Fn(&str, &str, &str) -> Option<String>,
) -> (Vec<Row>, usize) {
    let (rows, same) = compare_all(a, b, note);
    (rows, same.len())
}

/// Compares `key → value` maps into (differing rows, unchanged rows).
fn compare_all(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    note: impl Fn(&str, &str, &str) -> Option<String>,
) -> (Vec<Row>, Vec<Row>) {
    let mut rows = vec![];
    let mut same = vec![];
    for (k, va) in a {
        match b.get(k) {
            Some(vb) if vb == va => same.push(Row {
                change: Change::Unchanged,
                key: k.clone(),
                a: Some(va.clone()),
                b: Some(vb.clone()),
                note: None,
            }),
            Some(vb) => rows.push(Row {
                change: Change::Changed,
                key: k.clone(),
                a: Some(va.clone()),
                b: Some(vb.clone()),
                note: note(k, va, vb),
            }),
            None => rows.push(Row {
                change: Change::Removed,
                key: k.clone(),
                a: Some(va.clone()),
                b: None,
                note: None,
            }),
        }
    }
    for (k, vb) in b {
        if !a.contains_key(k) {
            rows.push(Row {
                change: Change::Added,
                key: k.clone(),
                a: None,
                b: Some(vb.clone()),
                note: None,
            });
        }
    }
    (rows, same)
}

fn section(
    name: &str,
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    note: impl Fn(&str, &str, &str) -> Option<String>,
) -> Section {
    let (rows, same) = compare_all(a, b, note);
    Section {
        name: name.to_string(),
        rows,
        unchanged: same.len(),
        same,
        ..Section::default()
    }
}

fn no_note(_: &str, _: &str, _: &str) -> Option<String> {
    None
}

fn identity(s: &Side) -> BTreeMap<String, String> {
    let a = &s.artifact;
    let mut m = BTreeMap::new();
    m.insert("digest".into(), a.digest.clone());
    m.insert("repository".into(), a.repository.clone());
    m.insert("media type".into(), a.media_type.clone());
    if !a.tags.is_empty() {
        m.insert("tags".into(), a.tags.join(", "));
    }
    if let Some(c) = &a.created {
        m.insert("created".into(), c.clone());
    }
    m
}

/// The provenance describing the digest: verified first; whether it was verified.
pub(crate) fn provenance(s: &Side) -> Option<(&Provenance, bool)> {
    let items = provenance_of(&s.judgement.discovery.items);
    let pick = |verified: bool| {
        items
            .iter()
            .find(|i| i.signer.is_verified() == verified)
            .and_then(|i| i.provenance.as_ref().map(|p| (p, verified)))
    };
    pick(true).or_else(|| pick(false))
}

fn provenance_map(p: &Provenance) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v.clone());
        }
    };
    put("builder", Some(&p.builder_id));
    put("build type", Some(&p.build_type));
    put("platform", Some(&p.platform));
    put("source", p.source_repo.as_ref());
    put("commit", p.commit.as_ref());
    put("ref", p.git_ref.as_ref());
    put("workflow", p.workflow_path.as_ref());
    put("trigger", p.trigger.as_ref());
    put("run", p.run_url.as_ref().or(p.invocation_id.as_ref()));
    if let Some(serde_json::Value::Object(o)) = &p.external_parameters {
        for (k, v) in o {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            m.insert(format!("parameter {k}"), text);
        }
    }
    for mat in &p.materials {
        m.insert(
            format!("material {}", mat.uri),
            mat.digest.clone().unwrap_or_else(|| "(no digest)".into()),
        );
    }
    m
}

/// A compare link for a commit change on a known forge.
fn compare_link(source: Option<&String>, a: &str, b: &str) -> Option<String> {
    let s = source?;
    if s.starts_with("github.com/") {
        Some(format!("https://{s}/compare/{a}...{b}"))
    } else if s.starts_with("gitlab.com/") {
        Some(format!("https://{s}/-/compare/{a}...{b}"))
    } else {
        None
    }
}

fn signers(s: &Side) -> BTreeMap<String, String> {
    s.judgement
        .discovery
        .items
        .iter()
        .filter(|i| i.kind == Kind::Signature)
        .flat_map(|i| i.signer.verified_signers())
        .map(|sg| (sg.sentence(), "signed".to_string()))
        .collect()
}

/// One side's packages: `ecosystem/name → version (license)`, the packages themselves, and
/// whether every SBOM read was verified.
struct Packages<'a> {
    shown: BTreeMap<String, String>,
    found: BTreeMap<String, &'a crate::evidence::sbom::Package>,
    verified: bool,
}

fn ecosystem(p: &crate::evidence::sbom::Package) -> &str {
    p.purl
        .as_deref()
        .and_then(|u| u.strip_prefix("pkg:"))
        .and_then(|u| u.split('/').next())
        .unwrap_or("generic")
}

/// Verified SBOMs when there are any; else the unverified ones (marked by the section note).
fn packages(s: &Side) -> Packages<'_> {
    let items: Vec<&EvidenceItem> = sboms_of(&s.judgement.discovery.items);
    let verified: Vec<&EvidenceItem> = items
        .iter()
        .copied()
        .filter(|i| i.signer.is_verified())
        .collect();
    let ok = !verified.is_empty();
    let chosen = if ok { verified } else { items };
    let mut out = Packages {
        shown: BTreeMap::new(),
        found: BTreeMap::new(),
        verified: ok,
    };
    for i in chosen {
        for p in i.sbom.iter().flat_map(|s| &s.packages) {
            let mut v = p.version.clone().unwrap_or_else(|| "?".into());
            if let Some(l) = &p.license {
                v.push_str(&format!(" ({l})"));
            }
            let key = format!("{}/{}", ecosystem(p), p.name);
            out.shown.insert(key.clone(), v);
            out.found.insert(key, p);
        }
    }
    out
}

/// "version up" or "version down" in the package's own ecosystem ordering (semver, PEP 440,
/// Debian, Maven…); "license changed" when only the license did.
fn version_note(key: &str, a: &str, b: &str) -> Option<String> {
    let va = a.split(' ').next().unwrap_or(a);
    let vb = b.split(' ').next().unwrap_or(b);
    let eco = key.split('/').next().unwrap_or("generic");
    let scheme = crate::policy::versions::Scheme::for_purl_type(eco);
    match scheme.compare(va, vb) {
        _ if va == vb => Some("license changed".into()),
        Some(std::cmp::Ordering::Less) => Some("version up".into()),
        Some(std::cmp::Ordering::Greater) => Some("version down".into()),
        _ => None,
    }
}

/// The denied-packages rules `p` falls under.
fn denied_by<'a>(
    p: &crate::evidence::sbom::Package,
    denials: &'a [(String, Denial)],
) -> Vec<&'a str> {
    let mut rules: Vec<&str> = denials
        .iter()
        .filter(|(_, d)| d.matches(p))
        .map(|(r, _)| r.as_str())
        .collect();
    rules.dedup();
    rules
}

/// The packages section: rows with version direction and denied flags, counts per ecosystem,
/// and every denied package on either side named.
fn packages_section(a: &Side, b: &Side) -> Section {
    let (pa, pb) = (packages(a), packages(b));
    let mut s = section("packages", &pa.shown, &pb.shown, version_note);
    let nothing = pa.shown.is_empty() && pb.shown.is_empty();
    if !(nothing || pa.verified && pb.verified) {
        s.note = Some(
            "at least one SBOM is unverified: its packages are shown, marked by this note".into(),
        );
    }
    for r in &mut s.rows {
        let mut flags = vec![];
        for (side, pk, denials) in [("A", &pa, &a.denials), ("B", &pb, &b.denials)] {
            if let Some(p) = pk.found.get(&r.key) {
                let rules = denied_by(p, denials);
                if !rules.is_empty() {
                    flags.push(format!("denied in {side} ({})", rules.join(", ")));
                }
            }
        }
        if !flags.is_empty() {
            let mut n = r.note.take().map(|n| vec![n]).unwrap_or_default();
            n.extend(flags);
            r.note = Some(n.join("; "));
        }
    }
    // Per ecosystem: added, removed, up, down, other changes, unchanged.
    let mut counts: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    for r in s.rows.iter().chain(&s.same) {
        let eco = r.key.split('/').next().unwrap_or("generic");
        let c = counts.entry(eco).or_default();
        let slot = match (r.change, r.note.as_deref().unwrap_or("")) {
            (Change::Added, _) => 0,
            (Change::Removed, _) => 1,
            (Change::Changed, n) if n.starts_with("version up") => 2,
            (Change::Changed, n) if n.starts_with("version down") => 3,
            (Change::Changed, _) => 4,
            (Change::Unchanged, _) => 5,
        };
        c[slot] += 1;
    }
    for (eco, c) in counts {
        let words = ["added", "removed", "up", "down", "changed", "unchanged"];
        let parts: Vec<String> = c
            .iter()
            .zip(words)
            .filter(|(n, _)| **n > 0)
            .map(|(n, w)| format!("{n} {w}"))
            .collect();
        s.summary.push(format!("{eco}: {}", parts.join(", ")));
    }
    for (side, pk, denials) in [("A", &pa, &a.denials), ("B", &pb, &b.denials)] {
        let hits: Vec<String> = pk
            .found
            .iter()
            .filter(|(_, p)| !denied_by(p, denials).is_empty())
            .map(|(k, p)| format!("{k} {}", p.version.as_deref().unwrap_or("?")))
            .collect();
        if !hits.is_empty() {
            s.summary
                .push(format!("denied by policy in {side}: {}", hits.join(", ")));
        }
    }
    s
}

/// An artifact's layers by digest, or an index's platforms.
fn layers_of(a: &Artifact) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if a.platforms.is_empty() {
        for (i, l) in a.layers.iter().enumerate() {
            m.insert(l.digest.clone(), format!("layer {} ({} B)", i + 1, l.size));
        }
    } else {
        for p in &a.platforms {
            m.insert(format!("platform {}", p.platform), p.digest.clone());
        }
    }
    m
}

/// `before`: the other side, when this is B — a hidden value that differs from A's says so.
fn config(s: &Side, before: Option<&Side>, show_values: bool) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(c) = &s.artifact.config {
        m.insert("entrypoint".into(), c.entrypoint.join(" "));
        m.insert("cmd".into(), c.cmd.join(" "));
        if let Some(u) = &c.user {
            m.insert("user".into(), u.clone());
        }
        m.insert("platform".into(), format!("{}/{}", c.os, c.architecture));
        if let Some(w) = &c.working_dir {
            m.insert("working dir".into(), w.clone());
        }
        if !c.ports.is_empty() {
            m.insert("ports".into(), c.ports.join(", "));
        }
        for name in &c.env_names {
            let mine = c.env_values.get(name);
            let theirs = before
                .and_then(|b| b.artifact.config.as_ref())
                .and_then(|bc| bc.env_values.get(name));
            let value = match (show_values, mine) {
                (true, Some(v)) => v.clone(),
                _ if before.is_some() && theirs.is_some() && theirs != mine => {
                    "set, another value (hidden: --show-values)".to_string()
                }
                _ => "set (hidden: --show-values)".to_string(),
            };
            m.insert(format!("env {name}"), value);
        }
        for (k, v) in &c.labels {
            m.insert(format!("label {k}"), v.clone());
        }
    }
    m
}

fn verdicts(s: &Side) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for v in &s.judgement.verdicts {
        m.insert(v.environment.clone(), v.decision.label().to_string());
        for f in &v.findings {
            m.insert(
                format!("{} · {}", v.environment, f.rule),
                format!(
                    "{}: {}",
                    format!("{:?}", f.outcome).to_lowercase(),
                    f.message
                ),
            );
        }
    }
    m
}

/// Compares two sides; environment variable values are compared and shown only with
/// `show_values` (they may hold secrets: otherwise only names are).
pub fn diff(a: &Side, b: &Side, show_values: bool) -> Diff {
    let mut sections = vec![section("identity", &identity(a), &identity(b), no_note)];
    let (pa, pb) = (provenance(a), provenance(b));
    let ma = pa.map(|(p, _)| provenance_map(p)).unwrap_or_default();
    let mb = pb.map(|(p, _)| provenance_map(p)).unwrap_or_default();
    let source = pb.and_then(|(p, _)| p.source_repo.clone());
    let mut prov = section("provenance", &ma, &mb, |k, x, y| {
        (k == "commit")
            .then(|| compare_link(source.as_ref(), x, y))
            .flatten()
    });
    prov.note = match (pa.map(|p| p.1), pb.map(|p| p.1)) {
        (None, None) => Some("neither side has provenance about its digest".into()),
        (Some(true), Some(true)) => None,
        (x, y) => Some(format!(
            "unverified evidence is shown, never trusted: A {}, B {}",
            words(x),
            words(y)
        )),
    };
    sections.push(prov);
    sections.push(section("signers", &signers(a), &signers(b), no_note));
    sections.push(packages_section(a, b));
    sections.push(section(
        "layers",
        &layers_of(&a.artifact),
        &layers_of(&b.artifact),
        no_note,
    ));
    sections.push(section(
        "config",
        &config(a, None, show_values),
        &config(b, Some(a), show_values),
        no_note,
    ));
    sections.push(section("verdicts", &verdicts(a), &verdicts(b), no_note));
    Diff {
        a: a.artifact.digest.clone(),
        b: b.artifact.digest.clone(),
        identical: a.artifact.digest == b.artifact.digest,
        sections,
    }
}

fn words(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "verified",
        Some(false) => "unverified",
        None => "none",
    }
}
