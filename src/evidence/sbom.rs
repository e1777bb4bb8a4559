//! SPDX 2.2/2.3 JSON and CycloneDX 1.2–1.6 JSON summarised into an `SbomSummary`.
//! SPDX 3.0 is detected and reported as unsupported; documents that break their format's rules
//! are reported as invalid. Neither is ever mistaken for an empty SBOM.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Predicate types that carry an SBOM.
pub fn is_sbom_predicate(predicate_type: &str) -> bool {
    predicate_type.starts_with("https://spdx.dev/Document")
        || predicate_type.starts_with("https://cyclonedx.org/bom")
}

/// Media types of raw SBOM documents (cosign `.sbom` layers, referrer artifacts).
pub fn is_sbom_media_type(mt: &str) -> bool {
    matches!(
        mt,
        "text/spdx+json"
            | "application/spdx+json"
            | "text/spdx"
            | "application/vnd.cyclonedx+json"
            | "application/vnd.cyclonedx"
    )
}

/// One package of an SBOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub license: Option<String>,
}

/// What an SBOM says, in counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SbomSummary {
    /// "SPDX" or "CycloneDX".
    pub format: String,
    pub version: String,
    pub name: Option<String>,
    pub generator: Vec<String>,
    pub created: Option<String>,
    pub package_count: usize,
    /// (purl type, count), most common first.
    pub ecosystems: Vec<(String, usize)>,
    /// (license, count), most common first.
    pub licenses: Vec<(String, usize)>,
    pub unlicensed: usize,
    pub packages: Vec<Package>,
}

/// Why a document is not summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SbomProblem {
    Unsupported(String),
    Invalid(String),
}

impl std::fmt::Display for SbomProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SbomProblem::Unsupported(s) => write!(f, "unsupported SBOM: {s}"),
            SbomProblem::Invalid(s) => write!(f, "invalid SBOM: {s}"),
        }
    }
}

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|x| !x.is_empty()).map(str::to_string)
}

fn no_license(l: &str) -> bool {
    l.is_empty() || l == "NOASSERTION" || l == "NONE"
}

/// The purl type (`pkg:npm/…` → `npm`).
pub fn purl_type(purl: &str) -> Option<String> {
    purl.strip_prefix("pkg:")?
        .split('/')
        .next()
        .map(str::to_lowercase)
}

/// Summarises a JSON SBOM of either format.
pub fn summarize(doc: &Value) -> Result<SbomSummary, SbomProblem> {
    if doc.get("@graph").is_some() || doc.get("@context").is_some() {
        return Err(SbomProblem::Unsupported(
            "SPDX 3.0 JSON-LD (provost reads SPDX 2.2 and 2.3)".into(),
        ));
    }
    if let Some(v) = doc.get("spdxVersion") {
        return spdx(doc, v);
    }
    if doc.get("bomFormat").is_some() || doc.get("specVersion").is_some() {
        return cyclonedx(doc);
    }
    Err(SbomProblem::Invalid(
        "neither SPDX (spdxVersion) nor CycloneDX (bomFormat)".into(),
    ))
}

fn finish(
    format: &str,
    version: String,
    name: Option<String>,
    generator: Vec<String>,
    created: Option<String>,
    packages: Vec<Package>,
) -> SbomSummary {
    let mut eco: BTreeMap<String, usize> = BTreeMap::new();
    let mut lic: BTreeMap<String, usize> = BTreeMap::new();
    let mut unlicensed = 0;
    for p in &packages {
        if let Some(t) = p.purl.as_deref().and_then(purl_type) {
            *eco.entry(t).or_default() += 1;
        }
        match &p.license {
            Some(l) => *lic.entry(l.clone()).or_default() += 1,
            None => unlicensed += 1,
        }
    }
    let top = |m: BTreeMap<String, usize>| {
        let mut v: Vec<(String, usize)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    SbomSummary {
        format: format.into(),
        version,
        name,
        generator,
        created,
        package_count: packages.len(),
        ecosystems: top(eco),
        licenses: top(lic),
        unlicensed,
        packages,
    }
}

fn spdx(doc: &Value, version: &Value) -> Result<SbomSummary, SbomProblem> {
    let v = version.as_str().unwrap_or_default();
    let ver = v.strip_prefix("SPDX-").unwrap_or(v);
    if !(ver.starts_with("2.2") || ver.starts_with("2.3")) {
        return Err(if ver.starts_with('3') {
            SbomProblem::Unsupported(format!("SPDX {ver}"))
        } else {
            SbomProblem::Invalid(format!("spdxVersion {v:?} is not SPDX 2.2 or 2.3"))
        });
    }
    if s(&doc["SPDXID"]).is_none() {
        return Err(SbomProblem::Invalid(
            "an SPDX document needs an SPDXID".into(),
        ));
    }
    let ci = &doc["creationInfo"];
    let generator = ci["creators"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str())
                .filter(|c| c.starts_with("Tool:"))
                .map(|c| c.trim_start_matches("Tool:").trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    let packages = match doc.get("packages") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| {
                let purl = p["externalRefs"].as_array().and_then(|refs| {
                    refs.iter()
                        .find(|r| r["referenceType"] == "purl")
                        .and_then(|r| s(&r["referenceLocator"]))
                });
                let license = [&p["licenseConcluded"], &p["licenseDeclared"]]
                    .iter()
                    .filter_map(|l| l.as_str())
                    .find(|l| !no_license(l))
                    .map(str::to_string);
                Package {
                    name: s(&p["name"]).unwrap_or_default(),
                    version: s(&p["versionInfo"]),
                    purl,
                    license,
                }
            })
            .collect(),
        Some(_) => return Err(SbomProblem::Invalid("packages is not a list".into())),
    };
    Ok(finish(
        "SPDX",
        ver.to_string(),
        s(&doc["name"]),
        generator,
        s(&ci["created"]),
        packages,
    ))
}

fn collect_components(list: &Value, out: &mut Vec<Package>, depth: usize) {
    let Some(a) = list.as_array() else { return };
    for c in a {
        if out.len() >= 1_000_000 || depth > 64 {
            return;
        }
        let license = c["licenses"].as_array().and_then(|ls| {
            ls.iter().find_map(|l| {
                s(&l["license"]["id"])
                    .or_else(|| s(&l["license"]["name"]))
                    .or_else(|| s(&l["expression"]))
            })
        });
        out.push(Package {
            name: s(&c["name"]).unwrap_or_default(),
            version: s(&c["version"]),
            purl: s(&c["purl"]),
            license,
        });
        collect_components(&c["components"], out, depth + 1);
    }
}

fn cyclonedx(doc: &Value) -> Result<SbomSummary, SbomProblem> {
    let format = doc["bomFormat"].as_str().unwrap_or_default();
    if format != "CycloneDX" {
        return Err(SbomProblem::Invalid(format!(
            "bomFormat is {format:?}, not \"CycloneDX\""
        )));
    }
    let version = s(&doc["specVersion"]).ok_or(SbomProblem::Invalid("no specVersion".into()))?;
    let minor: Option<u32> = version.strip_prefix("1.").and_then(|m| m.parse().ok());
    if !matches!(minor, Some(2..=6)) {
        return Err(SbomProblem::Unsupported(format!(
            "CycloneDX {version} (provost reads 1.2 to 1.6)"
        )));
    }
    if let Some(deps) = doc.get("dependencies") {
        let ok = deps
            .as_array()
            .is_some_and(|a| a.iter().all(|d| s(&d["ref"]).is_some()));
        if !ok {
            return Err(SbomProblem::Invalid(
                "a dependencies entry has no ref".into(),
            ));
        }
    }
    let md = &doc["metadata"];
    let tools = &md["tools"];
    let mut generator: Vec<String> = vec![];
    let tool_name = |t: &Value| {
        let name = s(&t["name"])?;
        Some(match s(&t["version"]) {
            Some(v) => format!("{name} {v}"),
            None => name,
        })
    };
    if let Some(a) = tools.as_array() {
        generator.extend(a.iter().filter_map(tool_name));
    } else {
        for key in ["components", "services"] {
            if let Some(a) = tools[key].as_array() {
                generator.extend(a.iter().filter_map(tool_name));
            }
        }
    }
    let mut packages = vec![];
    collect_components(&doc["components"], &mut packages, 0);
    let name = s(&md["component"]["name"]);
    Ok(finish(
        "CycloneDX",
        version,
        name,
        generator,
        s(&md["timestamp"]),
        packages,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_types() {
        assert_eq!(purl_type("pkg:npm/%40acme/x@1"), Some("npm".into()));
        assert_eq!(purl_type("nope"), None);
    }

    #[test]
    fn problems_are_named() {
        let e = summarize(&serde_json::json!({"@context": "x", "@graph": []})).expect_err("3.0");
        assert!(matches!(e, SbomProblem::Unsupported(_)));
        let e = summarize(&serde_json::json!({"hello": 1})).expect_err("neither");
        assert!(matches!(e, SbomProblem::Invalid(_)));
    }
}
