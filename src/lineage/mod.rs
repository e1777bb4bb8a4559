//! Lineage diff: what changed between two digests, section by section — identity, provenance
//! (verified, or marked unverified), signers, SBOM packages, layers (per platform for an index),
//! config, and the verdicts per environment. Both sides are read with the same gate, so the
//! verdict section says exactly what `provost gate` would.

pub mod files;
pub mod render;

use crate::evidence::{provenance_of, sboms_of, EvidenceItem, Kind, Provenance};
use crate::gate::Judgement;
use crate::oci::artifact::Artifact;
use serde::Serialize;
use std::collections::BTreeMap;

/// One side of a diff, as read.
pub struct Side {
    pub artifact: Artifact,
    pub judgement: Judgement,
}

/// How a row differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn mark(self) -> &'static str {
        match self {
            Change::Added => "+",
            Change::Removed => "-",
            Change::Changed => "~",
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub name: &'static str,
    pub rows: Vec<Row>,
    pub unchanged: usize,
    /// A caveat for the whole section (unverified evidence, nothing to compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    let mut rows = vec![];
    let mut same = 0;
    for (k, va) in a {
        match b.get(k) {
            Some(vb) if vb == va => same += 1,
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
    name: &'static str,
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    note: impl Fn(&str, &str, &str) -> Option<String>,
) -> Section {
    let (rows, unchanged) = compare(a, b, note);
    Section {
        name,
        rows,
        unchanged,
        note: None,
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
fn provenance(s: &Side) -> Option<(&Provenance, bool)> {
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

fn packages(s: &Side) -> (BTreeMap<String, String>, bool) {
    let items: Vec<&EvidenceItem> = sboms_of(&s.judgement.discovery.items);
    let verified: Vec<&&EvidenceItem> = items.iter().filter(|i| i.signer.is_verified()).collect();
    let (chosen, ok): (Vec<&EvidenceItem>, bool) = if verified.is_empty() {
        (items.clone(), false)
    } else {
        (verified.into_iter().copied().collect(), true)
    };
    let mut m = BTreeMap::new();
    for i in chosen {
        for p in i.sbom.iter().flat_map(|s| &s.packages) {
            let eco = p
                .purl
                .as_deref()
                .and_then(|u| u.strip_prefix("pkg:"))
                .and_then(|u| u.split('/').next())
                .unwrap_or("generic");
            let mut v = p.version.clone().unwrap_or_else(|| "?".into());
            if let Some(l) = &p.license {
                v.push_str(&format!(" ({l})"));
            }
            m.insert(format!("{eco}/{}", p.name), v);
        }
    }
    (m, ok)
}

/// "up" or "down" when both versions order (semver, then a plain split on digits).
fn version_note(_: &str, a: &str, b: &str) -> Option<String> {
    let va = a.split(' ').next().unwrap_or(a);
    let vb = b.split(' ').next().unwrap_or(b);
    let order = match (semver::Version::parse(va), semver::Version::parse(vb)) {
        (Ok(x), Ok(y)) => Some(x.cmp(&y)),
        _ => None,
    };
    match order {
        Some(std::cmp::Ordering::Less) => Some("version up".into()),
        Some(std::cmp::Ordering::Greater) => Some("version down".into()),
        Some(std::cmp::Ordering::Equal) if va == vb => Some("license changed".into()),
        _ => None,
    }
}

fn layers(s: &Side) -> BTreeMap<String, String> {
    let a = &s.artifact;
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
    let ((ka, va), (kb, vb)) = (packages(a), packages(b));
    let mut pk = section("packages", &ka, &kb, version_note);
    let both_verified = va && vb;
    let nothing = ka.is_empty() && kb.is_empty();
    if !both_verified && !nothing {
        pk.note = Some(
            "at least one SBOM is unverified: its packages are shown, marked by this note".into(),
        );
    }
    sections.push(pk);
    sections.push(section("layers", &layers(a), &layers(b), no_note));
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

/// An image's layers as descriptors (empty for an index).
pub fn layer_descriptors(a: &Artifact) -> Vec<crate::oci::media::Descriptor> {
    a.layers
        .iter()
        .map(|l| crate::oci::media::Descriptor {
            media_type: l.media_type.clone(),
            digest: l.digest.clone(),
            size: l.size,
            ..Default::default()
        })
        .collect()
}

/// The files section: with `semantic`, the flattened filesystems compared without timestamps
/// or layer boundaries (as diffoci --semantic); else each changed layer against the layer at
/// the same position, timestamps included.
pub async fn files_section(
    (sa, ra, a): (&impl crate::oci::Store, &str, &Artifact),
    (sb, rb, b): (&impl crate::oci::Store, &str, &Artifact),
    semantic: bool,
) -> Section {
    let (la, lb) = (layer_descriptors(a), layer_descriptors(b));
    let mut s = Section {
        name: "files",
        rows: vec![],
        unchanged: 0,
        note: None,
    };
    if la.is_empty() || lb.is_empty() {
        s.note = Some("an index has no files of its own: compare two platform manifests".into());
        return s;
    }
    let describe = |m: BTreeMap<String, files::Entry>, prefix: &str| -> BTreeMap<String, String> {
        m.into_iter()
            .map(|(p, e)| (format!("{prefix}{p}"), e.describe(semantic)))
            .collect()
    };
    let result: Result<(), String> = async {
        if semantic {
            let (fa, fb) =
                futures::join!(files::flattened(sa, ra, &la), files::flattened(sb, rb, &lb));
            let (rows, same) = compare(&describe(fa?, ""), &describe(fb?, ""), no_note);
            s.rows = rows;
            s.unchanged = same;
            return Ok(());
        }
        for i in 0..la.len().max(lb.len()) {
            let (x, y) = (la.get(i), lb.get(i));
            if let (Some(x), Some(y)) = (x, y) {
                if x.digest == y.digest {
                    continue;
                }
            }
            let fa = match x {
                Some(x) => files::layer_files(sa, ra, x).await?,
                None => BTreeMap::new(),
            };
            let fb = match y {
                Some(y) => files::layer_files(sb, rb, y).await?,
                None => BTreeMap::new(),
            };
            let prefix = format!("layer {}: ", i + 1);
            let (rows, same) = compare(&describe(fa, &prefix), &describe(fb, &prefix), no_note);
            s.rows.extend(rows);
            s.unchanged += same;
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        s.note = Some(format!("files not compared: {e}"));
    }
    s
}

/// When both sides claim one source commit and build type: reproducible (identical digest),
/// equivalent ignoring timestamps, or not, with the first differing files.
pub async fn reproducibility(
    (sa, ra, a): (&impl crate::oci::Store, &str, &Side),
    (sb, rb, b): (&impl crate::oci::Store, &str, &Side),
) -> Option<Section> {
    let (pa, pb) = (provenance(a)?.0, provenance(b)?.0);
    if pa.commit.is_none() || pa.commit != pb.commit || pa.build_type != pb.build_type {
        return None;
    }
    let mut s = Section {
        name: "reproducibility",
        rows: vec![],
        unchanged: 0,
        note: None,
    };
    if a.artifact.digest == b.artifact.digest {
        s.note = Some("reproducible: the same commit built to the identical digest".into());
        return Some(s);
    }
    let files = files_section((sa, ra, &a.artifact), (sb, rb, &b.artifact), true).await;
    s.note = Some(match (&files.note, files.rows.is_empty()) {
        (Some(n), _) => format!("not decided: {n}"),
        (None, true) => "equivalent ignoring timestamps: the same files, modes and contents".into(),
        (None, false) => "not reproducible: the same commit built to different files".into(),
    });
    s.rows = files.rows.into_iter().take(20).collect();
    s.unchanged = files.unchanged;
    Some(s)
}
