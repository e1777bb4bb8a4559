//! SLSA provenance v0.1 (Google Cloud Build), v0.2 and v1 decoded into one `Provenance`, and
//! said in plain words.

use serde::Serialize;
use serde_json::Value;

pub const SLSA_V01: &str = "https://slsa.dev/provenance/v0.1";
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// True for any SLSA provenance predicate type.
pub fn is_provenance(predicate_type: &str) -> bool {
    predicate_type.starts_with("https://slsa.dev/provenance/")
}

/// An input of the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Material {
    pub uri: String,
    pub digest: Option<String>,
}

/// Where and how an artifact was built, whatever SLSA version said it.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Provenance {
    pub slsa_version: String,
    /// "GitHub Actions", "Google Cloud Build", "GitLab CI", "BuildKit" or "unknown builder".
    pub platform: String,
    pub builder_id: String,
    pub build_type: String,
    /// Normalised like `github.com/org/repo`.
    pub source_repo: Option<String>,
    pub commit: Option<String>,
    pub git_ref: Option<String>,
    pub workflow_path: Option<String>,
    pub workflow_ref: Option<String>,
    pub trigger: Option<String>,
    pub runner: Option<String>,
    pub invocation_id: Option<String>,
    pub run_url: Option<String>,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub materials: Vec<Material>,
    pub external_parameters: Option<Value>,
}

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|x| !x.is_empty()).map(str::to_string)
}

fn digest_of(v: &Value) -> Option<String> {
    let m = v.as_object()?;
    for k in ["sha1", "gitCommit", "sha256", "sha512"] {
        if let Some(d) = m.get(k).and_then(Value::as_str) {
            return Some(if k == "sha256" {
                format!("sha256:{d}")
            } else {
                d.to_string()
            });
        }
    }
    m.iter()
        .next()
        .and_then(|(k, v)| v.as_str().map(|d| format!("{k}:{d}")))
}

/// `git+https://github.com/org/repo@refs/tags/v1` → (`github.com/org/repo`, `refs/tags/v1`).
/// Also `https://github.com/org/repo/commit/<sha>` (Cloud Build) and plain URLs.
pub fn split_source(uri: &str) -> (String, Option<String>, Option<String>) {
    let u = uri.trim_start_matches("git+");
    let u = u
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("ssh://")
        .trim_start_matches("git@");
    if let Some((repo, commit)) = u.split_once("/commit/") {
        return (
            repo.trim_end_matches(".git").to_string(),
            None,
            Some(commit.to_string()),
        );
    }
    // BuildKit: https://github.com/org/repo.git#<commit>
    if let Some((repo, commit)) = u.split_once('#') {
        return (
            repo.trim_end_matches(".git").to_string(),
            None,
            Some(commit.to_string()),
        );
    }
    match u.split_once('@') {
        Some((repo, r)) => (
            repo.trim_end_matches(".git").to_string(),
            Some(r.to_string()),
            None,
        ),
        None => (u.trim_end_matches(".git").to_string(), None, None),
    }
}

/// The build platform, from the builder id first: the builder is who ran the build, whatever
/// build type it claims (a Jenkins job emitting GitHub's build type is still Jenkins). The build
/// type decides only when the builder id names no known platform and no host.
fn platform_for(builder_id: &str, build_type: &str) -> String {
    let b = builder_id.to_lowercase();
    let t = build_type.to_lowercase();
    let known = |s: &str| -> Option<&'static str> {
        if s.contains("cloudbuild.googleapis.com") {
            Some("Google Cloud Build")
        } else if s.contains("github.com") || s.contains("actions.github.io") {
            Some("GitHub Actions")
        } else if s.contains("gitlab") {
            Some("GitLab CI")
        } else if s.contains("jenkins") {
            Some("Jenkins")
        } else if s.contains("tekton") {
            Some("Tekton")
        } else if s.contains("buildkit") {
            Some("BuildKit")
        } else {
            None
        }
    };
    if let Some(p) = known(&b) {
        return p.into();
    }
    // An unknown builder is named by its host, never by the build type it claims.
    if let Some(host) = b
        .split_once("://")
        .map(|(_, r)| r.split(['/', '?', '#']).next().unwrap_or(""))
        .filter(|h| !h.is_empty())
    {
        return format!("builder {host}");
    }
    if b.is_empty() {
        if let Some(p) = known(&t) {
            return p.into();
        }
    }
    "unknown builder".into()
}

/// Decodes a SLSA predicate of the given type.
pub fn decode(predicate_type: &str, p: &Value) -> Result<Provenance, super::EvidenceError> {
    decode_text(predicate_type, p).map_err(super::EvidenceError::Provenance)
}

fn decode_text(predicate_type: &str, p: &Value) -> Result<Provenance, String> {
    let mut prov = match predicate_type {
        SLSA_V1 => decode_v1(p),
        SLSA_V02 => decode_v02(p),
        SLSA_V01 => decode_v01(p),
        other => return Err(format!("unsupported provenance predicate {other}")),
    }?;
    prov.platform = platform_for(&prov.builder_id, &prov.build_type);
    // A source named only by materials: take the first git material.
    if prov.source_repo.is_none() {
        if let Some(m) = prov
            .materials
            .iter()
            .find(|m| m.uri.starts_with("git+") || m.uri.contains("/commit/"))
        {
            let (repo, r, c) = split_source(&m.uri);
            prov.source_repo = Some(repo);
            prov.git_ref = prov.git_ref.take().or(r);
            prov.commit = prov.commit.take().or(c).or_else(|| m.digest.clone());
        }
    }
    Ok(prov)
}

fn materials(list: &Value) -> Vec<Material> {
    list.as_array()
        .map(|a| {
            a.iter()
                .take(1000)
                .map(|m| Material {
                    uri: s(&m["uri"]).or_else(|| s(&m["name"])).unwrap_or_default(),
                    digest: digest_of(&m["digest"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn decode_v02(p: &Value) -> Result<Provenance, String> {
    let build_type = s(&p["buildType"]).unwrap_or_default();
    // BuildKit in min/max mode may leave the builder id empty; everyone else must name one.
    let builder_id = match s(&p["builder"]["id"]) {
        Some(b) => b,
        None if build_type.contains("mobyproject.org/buildkit") => String::new(),
        None => return Err("provenance v0.2 has no builder.id".into()),
    };
    let cs = &p["invocation"]["configSource"];
    let env = &p["invocation"]["environment"];
    let (source_repo, git_ref, uri_commit) = match s(&cs["uri"]) {
        Some(uri) => {
            let (r, g, c) = split_source(&uri);
            (Some(r), g, c)
        }
        None => (None, None, None),
    };
    let md = &p["metadata"];
    let run_id = s(&env["github_run_id"]);
    let repo_name = s(&env["github_repository"]);
    let run_url = match (&repo_name, &run_id) {
        (Some(r), Some(id)) => Some(format!("https://github.com/{r}/actions/runs/{id}")),
        _ => None,
    };
    // BuildKit keeps the VCS facts in its own metadata block.
    let bk = &md["https://mobyproject.org/buildkit@v1#metadata"]["vcs"];
    Ok(Provenance {
        slsa_version: "v0.2".into(),
        builder_id,
        build_type,
        source_repo: source_repo.or_else(|| s(&bk["source"]).map(|u| split_source(&u).0)),
        commit: digest_of(&cs["digest"])
            .or(uri_commit)
            .or_else(|| s(&env["github_sha1"]))
            .or_else(|| s(&bk["revision"])),
        git_ref: git_ref.or_else(|| s(&env["github_ref"])),
        workflow_path: s(&cs["entryPoint"]),
        workflow_ref: s(&env["github_workflow_ref"]),
        trigger: s(&env["github_event_name"]),
        runner: s(&env["github_runner_environment"]).or_else(|| s(&env["runner_environment"])),
        invocation_id: s(&md["buildInvocationId"])
            .or_else(|| s(&md["buildInvocationID"]))
            .or_else(|| run_id.clone()),
        run_url,
        started: s(&md["buildStartedOn"]),
        finished: s(&md["buildFinishedOn"]),
        materials: materials(&p["materials"]),
        external_parameters: p["invocation"].get("parameters").cloned(),
        ..Default::default()
    })
}

fn decode_v01(p: &Value) -> Result<Provenance, String> {
    let builder_id = s(&p["builder"]["id"]).ok_or("provenance v0.1 has no builder.id")?;
    let recipe = &p["recipe"];
    let md = &p["metadata"];
    Ok(Provenance {
        slsa_version: "v0.1".into(),
        builder_id,
        build_type: s(&recipe["type"]).unwrap_or_default(),
        workflow_path: s(&recipe["entryPoint"]),
        invocation_id: s(&md["buildInvocationId"]),
        started: s(&md["buildStartedOn"]),
        finished: s(&md["buildFinishedOn"]),
        materials: materials(&p["materials"]),
        external_parameters: recipe.get("arguments").cloned(),
        ..Default::default()
    })
}

fn decode_v1(p: &Value) -> Result<Provenance, String> {
    let bd = &p["buildDefinition"];
    let rd = &p["runDetails"];
    let builder_id = s(&rd["builder"]["id"]).ok_or("provenance v1 has no runDetails.builder.id")?;
    let ext = &bd["externalParameters"];
    let internal = &bd["internalParameters"];
    let deps = materials(&bd["resolvedDependencies"]);
    let mut prov = Provenance {
        slsa_version: "v1".into(),
        builder_id,
        build_type: s(&bd["buildType"]).unwrap_or_default(),
        invocation_id: s(&rd["metadata"]["invocationId"]),
        started: s(&rd["metadata"]["startedOn"]),
        finished: s(&rd["metadata"]["finishedOn"]),
        materials: deps,
        external_parameters: Some(ext.clone()),
        ..Default::default()
    };
    // GitHub Actions (actions/attest-build-provenance, provost's own): externalParameters.workflow.
    let wf = &ext["workflow"];
    if let Some(repo) = s(&wf["repository"]) {
        prov.source_repo = Some(split_source(&repo).0);
        prov.git_ref = s(&wf["ref"]);
        prov.workflow_path = s(&wf["path"]);
    }
    // slsa-github-generator container-based / BYOB: externalParameters.source and GITHUB_* values.
    if let Some(uri) = s(&ext["source"]["uri"]) {
        let (repo, r, _) = split_source(&uri);
        prov.source_repo = prov.source_repo.take().or(Some(repo));
        prov.git_ref = prov.git_ref.take().or(r);
        prov.commit = digest_of(&ext["source"]["digest"]);
    }
    // GitLab: externalParameters.source is a URL string, ref in variables.
    if let Some(src) = s(&ext["source"]) {
        prov.source_repo = prov.source_repo.take().or(Some(split_source(&src).0));
        prov.workflow_path = prov.workflow_path.take().or_else(|| s(&ext["entryPoint"]));
        prov.git_ref = prov
            .git_ref
            .take()
            .or_else(|| s(&ext["variables"]["CI_COMMIT_REF_NAME"]));
    }
    let gh = |k: &str| {
        s(&internal[k])
            .or_else(|| s(&internal["github"][k.to_lowercase().trim_start_matches("github_")]))
    };
    prov.git_ref = prov.git_ref.take().or_else(|| gh("GITHUB_REF"));
    prov.commit = prov.commit.take().or_else(|| gh("GITHUB_SHA"));
    prov.trigger = gh("GITHUB_EVENT_NAME").or_else(|| s(&internal["github"]["event_name"]));
    prov.runner = s(&internal["github"]["runner_environment"]).or_else(|| gh("RUNNER_ENVIRONMENT"));
    if prov.source_repo.is_none() {
        if let Some(r) = gh("GITHUB_REPOSITORY") {
            prov.source_repo = Some(format!("github.com/{r}"));
        }
    }
    if let Some(wref) = gh("GITHUB_WORKFLOW_REF") {
        // org/repo/.github/workflows/x.yml@refs/heads/main
        if let Some((path, r)) = wref.split_once('@') {
            let file = path.splitn(3, '/').nth(2).map(str::to_string);
            prov.workflow_path = prov.workflow_path.take().or(file);
            prov.workflow_ref = Some(r.to_string());
        }
    }
    // Commit from the first git dependency when nothing else named it.
    if prov.commit.is_none() {
        if let Some(m) = prov.materials.iter().find(|m| m.uri.starts_with("git+")) {
            prov.commit = m.digest.clone();
            if prov.source_repo.is_none() {
                let (repo, r, _) = split_source(&m.uri);
                prov.source_repo = Some(repo);
                prov.git_ref = prov.git_ref.take().or(r);
            }
        }
    }
    if let Some(id) = &prov.invocation_id {
        if id.starts_with("https://") {
            prov.run_url = Some(id.clone());
        }
    }
    Ok(prov)
}

impl Provenance {
    /// The run number (or id) of the build, when the invocation names one.
    pub fn run_id(&self) -> Option<String> {
        let id = self.invocation_id.as_deref()?;
        match id.split("/runs/").nth(1) {
            Some(rest) => rest.split('/').next().map(str::to_string),
            None => Some(id.to_string()),
        }
    }

    /// Seconds between start and finish.
    pub fn duration_seconds(&self) -> Option<i64> {
        let a = chrono::DateTime::parse_from_rfc3339(self.started.as_deref()?).ok()?;
        let b = chrono::DateTime::parse_from_rfc3339(self.finished.as_deref()?).ok()?;
        Some((b - a).num_seconds()).filter(|s| *s >= 0)
    }

    /// One sentence a release manager reads: who built it, from what, how, when.
    pub fn sentence(&self) -> String {
        let mut out = format!("Built by {}", self.platform);
        // A runner environment is a GitHub Actions notion: shown only for that platform.
        if let Some(r) = self
            .runner
            .as_ref()
            .filter(|_| self.platform == "GitHub Actions")
        {
            out.push_str(&format!(" ({r})"));
        }
        if let Some(src) = &self.source_repo {
            out.push_str(&format!(" from {src}"));
        }
        if let Some(c) = &self.commit {
            out.push_str(&format!(" at {}", c.chars().take(7).collect::<String>()));
        }
        if let Some(r) = &self.git_ref {
            out.push_str(&format!(" on {r}"));
        }
        if let Some(w) = &self.workflow_path {
            out.push_str(&format!(" by workflow {w}"));
        }
        if let Some(run) = self.run_id() {
            let short: String = run.chars().take(12).collect();
            out.push_str(&format!(
                ", run {short}{}",
                if run.len() > 12 { "…" } else { "" }
            ));
        }
        match self.duration_seconds() {
            Some(s) if s < 60 => {
                out.push_str(&format!(", in {s} second{}", if s == 1 { "" } else { "s" }))
            }
            Some(s) => {
                let m = s / 60;
                out.push_str(&format!(", in {m} minute{}", if m == 1 { "" } else { "s" }))
            }
            None => {}
        }
        let when = self.finished.as_deref().or(self.started.as_deref());
        if let Some(day) = when.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
            out.push_str(&format!(" on {}", day.format("%Y-%m-%d")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sources() {
        assert_eq!(
            split_source("git+https://github.com/acme/api@refs/tags/v1.4.2"),
            (
                "github.com/acme/api".into(),
                Some("refs/tags/v1.4.2".into()),
                None
            )
        );
        assert_eq!(
            split_source("https://github.com/laurentsimon/gcb-tests/commit/fbbb"),
            (
                "github.com/laurentsimon/gcb-tests".into(),
                None,
                Some("fbbb".into())
            )
        );
    }

    #[test]
    fn says_it_in_a_sentence() {
        let p = Provenance {
            platform: "GitHub Actions".into(),
            runner: Some("github-hosted".into()),
            source_repo: Some("github.com/acme/api".into()),
            commit: Some("3f2a1c9d00".into()),
            git_ref: Some("refs/tags/v1.4.2".into()),
            workflow_path: Some(".github/workflows/release.yml".into()),
            invocation_id: Some(
                "https://github.com/acme/api/actions/runs/8841123456/attempts/1".into(),
            ),
            started: Some("2026-11-20T10:19:00Z".into()),
            finished: Some("2026-11-20T10:31:00Z".into()),
            ..Default::default()
        };
        assert_eq!(
            p.sentence(),
            "Built by GitHub Actions (github-hosted) from github.com/acme/api at 3f2a1c9 on refs/tags/v1.4.2 by workflow .github/workflows/release.yml, run 8841123456, in 12 minutes on 2026-11-20"
        );
    }

    #[test]
    fn the_headline_comes_from_the_builder_not_the_build_type() {
        let gh = "https://actions.github.io/buildtypes/workflow/v1";
        assert_eq!(
            platform_for("https://jenkins.acme.internal/job/billing-ci", gh),
            "Jenkins"
        );
        assert_eq!(
            platform_for("https://ci.acme.internal/runner", gh),
            "builder ci.acme.internal"
        );
        assert_eq!(
            platform_for("https://github.com/actions/runner/github-hosted", gh),
            "GitHub Actions"
        );
        assert_eq!(platform_for("", gh), "GitHub Actions");
        let p = Provenance {
            platform: "Jenkins".into(),
            runner: Some("self-hosted".into()),
            commit: Some("é".repeat(9)),
            ..Default::default()
        };
        assert!(
            p.sentence().starts_with("Built by Jenkins at "),
            "{}",
            p.sentence()
        );
    }
}
