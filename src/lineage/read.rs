//! The one comparison service the CLI and the console call: read both digests, judge them with
//! the gate, diff them, then (for indexes) each platform both carry, the files when asked, and
//! the reproducibility verdict when both claim one commit and build type.

use super::{compare, files, layers_of, no_note, Diff, Section, Side};
use crate::config::Environment;
use crate::gate::Gate;
use crate::oci::artifact::Artifact;
use crate::oci::Store;
use std::collections::BTreeMap;

/// Which files to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Files {
    /// Metadata only.
    #[default]
    None,
    /// Each changed layer against the layer at the same position, timestamps included.
    Layers,
    /// The flattened filesystems, ignoring timestamps and layer boundaries.
    Semantic,
}

/// How to compare.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Environment variable values (they may hold secrets; else only names).
    pub show_values: bool,
    pub files: Files,
}

/// One digest to compare, and the gate and environments that judge it.
pub struct Input<'a, S: Store> {
    pub store: &'a S,
    pub repository: &'a str,
    pub digest: &'a str,
    pub gate: &'a Gate,
    pub environments: &'a [Environment],
}

impl<S: Store> Input<'_, S> {
    fn place(&self) -> (&S, &str) {
        (self.store, self.repository)
    }
}

/// Reads and judges one side.
pub async fn side<S: Store>(i: &Input<'_, S>) -> Result<Side, String> {
    let r = crate::oci::ArtifactRef {
        registry: String::new(),
        repository: i.repository.to_string(),
        tag: None,
        digest: Some(i.digest.to_string()),
    };
    let (artifact, judgement) = futures::join!(
        crate::oci::artifact::describe(i.store, &r, None),
        i.gate
            .judge(i.store, i.repository, i.digest, i.environments)
    );
    let artifact = artifact.map_err(|e| {
        format!(
            "reading {}@{}: {e}",
            i.repository,
            crate::oci::digest::short(i.digest)
        )
    })?;
    Ok(Side {
        artifact,
        judgement,
        denials: super::denials(&i.gate.policy.file),
    })
}

/// Reads a platform manifest of an index (describe only: the index's verdict is the one that
/// counts, and it is in the verdict section).
async fn platform<S: Store>(store: &S, repo: &str, digest: &str) -> Result<Artifact, String> {
    let r = crate::oci::ArtifactRef {
        registry: String::new(),
        repository: repo.to_string(),
        tag: None,
        digest: Some(digest.to_string()),
    };
    crate::oci::artifact::describe(store, &r, None)
        .await
        .map_err(|e| {
            format!(
                "reading platform {}: {e}",
                crate::oci::digest::short(digest)
            )
        })
}

/// The platform manifests both indexes carry, matched by platform: (platform, A's, B's).
async fn matched_platforms<S: Store, T: Store>(
    (sa, ra, a): (&S, &str, &Artifact),
    (sb, rb, b): (&T, &str, &Artifact),
) -> Result<Vec<(String, Artifact, Artifact)>, String> {
    let mut out = vec![];
    for pa in &a.platforms {
        let Some(pb) = b.platforms.iter().find(|p| p.platform == pa.platform) else {
            continue;
        };
        let (x, y) = futures::join!(platform(sa, ra, &pa.digest), platform(sb, rb, &pb.digest));
        out.push((pa.platform.clone(), x?, y?));
    }
    Ok(out)
}

/// Compares two digests: the sections of [`super::diff`], then per matched platform of two
/// indexes its layers, the files when asked, and the reproducibility verdict.
pub async fn compare_digests<S: Store, T: Store>(
    a: Input<'_, S>,
    b: Input<'_, T>,
    opts: Options,
) -> Result<Diff, String> {
    let (x, y) = futures::join!(side(&a), side(&b));
    let (x, y) = (x?, y?);
    let mut d = super::diff(&x, &y, opts.show_values);
    let both_indexes = !x.artifact.platforms.is_empty() && !y.artifact.platforms.is_empty();
    let pairs = if both_indexes {
        matched_platforms(
            (a.store, a.repository, &x.artifact),
            (b.store, b.repository, &y.artifact),
        )
        .await?
    } else {
        vec![]
    };
    for (p, pa, pb) in &pairs {
        let (rows, unchanged) = compare(&layers_of(pa), &layers_of(pb), no_note);
        d.sections.push(Section {
            name: format!("layers {p}"),
            rows,
            unchanged,
            ..Section::default()
        });
    }
    if opts.files != Files::None {
        let semantic = opts.files == Files::Semantic;
        if both_indexes {
            for (p, pa, pb) in &pairs {
                let mut s = files_section((a.place(), pa), (b.place(), pb), semantic).await;
                s.name = format!("files {p}");
                d.sections.push(s);
            }
        } else {
            d.sections.push(
                files_section((a.place(), &x.artifact), (b.place(), &y.artifact), semantic).await,
            );
        }
    }
    if let Some(r) = reproducibility((a.place(), &x), (b.place(), &y), &pairs).await {
        d.sections.push(r);
    }
    Ok(d)
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
pub async fn files_section<S: Store, T: Store>(
    ((sa, ra), a): ((&S, &str), &Artifact),
    ((sb, rb), b): ((&T, &str), &Artifact),
    semantic: bool,
) -> Section {
    let (la, lb) = (layer_descriptors(a), layer_descriptors(b));
    let mut s = Section {
        name: "files".into(),
        ..Section::default()
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
    if s.rows.len() > MAX_FILE_ROWS {
        let n = s.rows.len();
        s.rows.truncate(MAX_FILE_ROWS);
        s.note.get_or_insert(format!(
            "{n} changed files, more than the {MAX_FILE_ROWS} listed (the cap for one comparison)"
        ));
    }
    s
}

/// Changed files listed per comparison at most (the rest are counted, not listed).
pub const MAX_FILE_ROWS: usize = 20_000;

/// When both sides claim one source commit and build type: reproducible (identical digest),
/// equivalent ignoring timestamps (for an index: every platform both carry), or not, with the
/// first differing files.
async fn reproducibility<S: Store, T: Store>(
    (pa_, a): ((&S, &str), &Side),
    (pb_, b): ((&T, &str), &Side),
    pairs: &[(String, Artifact, Artifact)],
) -> Option<Section> {
    let (pa, pb) = (super::provenance(a)?.0, super::provenance(b)?.0);
    if pa.commit.is_none() || pa.commit != pb.commit || pa.build_type != pb.build_type {
        return None;
    }
    let mut s = Section {
        name: "reproducibility".into(),
        ..Section::default()
    };
    if a.artifact.digest == b.artifact.digest {
        s.note = Some("reproducible: the same commit built to the identical digest".into());
        return Some(s);
    }
    let mut compared: Vec<Section> = vec![];
    if pairs.is_empty() {
        compared.push(files_section((pa_, &a.artifact), (pb_, &b.artifact), true).await);
    } else {
        for (p, x, y) in pairs {
            let mut f = files_section((pa_, x), (pb_, y), true).await;
            for r in &mut f.rows {
                r.key = format!("{p}: {}", r.key);
            }
            compared.push(f);
        }
    }
    let problem = compared.iter().find_map(|f| f.note.clone());
    let rows: Vec<super::Row> = compared.iter().flat_map(|f| f.rows.clone()).collect();
    s.note = Some(match (problem, rows.is_empty()) {
        (Some(n), _) => format!("not decided: {n}"),
        (None, true) => "equivalent ignoring timestamps: the same files, modes and contents".into(),
        (None, false) => "not reproducible: the same commit built to different files".into(),
    });
    s.unchanged = compared.iter().map(|f| f.unchanged).sum();
    s.rows = rows.into_iter().take(20).collect();
    Some(s)
}
