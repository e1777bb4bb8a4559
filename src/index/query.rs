//! A triage question: which digests a builder, source, workflow, commit, signer, package or
//! predicate touched, built when. Every criterion must hold. The index answers it in two steps:
//! SQL narrows the candidates by its term table, then each candidate's authenticated facts are
//! matched here, in Rust, which is what decides.

use super::facts::{Claims, DigestFacts, SignerFact};
use crate::policy::packages::Denial;
use serde::Serialize;

/// One criterion.
#[derive(Debug, Clone)]
pub enum Criterion {
    Builder(String),
    Source(String),
    Workflow(String),
    /// A commit prefix (lowercased hex).
    Commit(String),
    /// A key name, fingerprint (prefix of at least 8), or keyless identity; globs allowed.
    Signer(String),
    /// The package as asked (`NAME@RANGE`) and its parsed form.
    Package(String, Denial),
    Predicate(String),
    BuiltAfter(chrono::DateTime<chrono::Utc>),
    BuiltBefore(chrono::DateTime<chrono::Utc>),
}

/// A query: every criterion must hold; `sources` narrows where (empty: every source).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub criteria: Vec<Criterion>,
    pub sources: Vec<String>,
}

/// How a digest answered a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Match {
    /// Every criterion holds on verified facts alone.
    Verified,
    /// At least one criterion holds only on a claim nothing trusted vouches for.
    Unverified,
}

fn glob(pattern: &str, value: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(value)
}

/// Parses `NAME[@RANGE]`: the range as `policy` writes it (`<0.31.0`, `>=2.0.0,<2.17.1`,
/// `1.3.0`, `vers:npm/…`). A name may start with `@` (npm scopes).
pub fn parse_package(s: &str) -> Result<Denial, String> {
    let s = s.trim();
    // The first character (an npm scope's '@') is never the separator; it is skipped by its
    // width, never by a byte count (a name may start with 'Ä').
    let skip = s.chars().next().map(char::len_utf8).unwrap_or(0);
    let (name, range) = match s[skip..].rfind('@') {
        Some(i) => {
            let i = i + skip;
            (&s[..i], Some(&s[i + 1..]))
        }
        None => (s, None),
    };
    if name.is_empty() {
        return Err(format!("{s:?} names no package"));
    }
    let spec = match range {
        Some("") => return Err(format!("{s:?}: nothing after '@'")),
        Some(r) if r.starts_with("vers:") => format!("{name} {r}"),
        Some(r) => format!("{name} {}", r.replace(',', " ")),
        None => name.to_string(),
    };
    Denial::parse(&spec).map_err(|e| format!("--package {s:?}: {e}"))
}

fn time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Parses a date (`2026-11-30`) or an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Some(t) = time(s) {
        return Ok(t);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{s:?} is neither a date (2026-11-30) nor an RFC 3339 time"))
}

fn signer_hit(pattern: &str, s: &SignerFact) -> bool {
    let p = pattern.to_ascii_lowercase();
    let fp = s.fingerprint.as_deref().map(str::to_ascii_lowercase);
    let fp_hit = fp.as_deref().is_some_and(|f| {
        (p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()) && f.starts_with(&p))
            || glob(&p, f)
    });
    fp_hit
        || s.name.as_deref().is_some_and(|n| glob(pattern, n))
        || s.identity.as_deref().is_some_and(|i| glob(pattern, i))
}

impl Criterion {
    /// True when `claims` satisfy the criterion.
    pub fn holds(&self, c: &Claims) -> bool {
        match self {
            Criterion::Builder(p) => c.builders.iter().any(|v| glob(p, v)),
            Criterion::Source(p) => c.sources.iter().any(|v| glob(p, v)),
            Criterion::Workflow(p) => c.workflows.iter().any(|v| glob(p, v)),
            Criterion::Commit(p) => c.commits.iter().any(|v| v.starts_with(p.as_str())),
            Criterion::Signer(p) => c.signers.iter().any(|s| signer_hit(p, s)),
            Criterion::Package(_, d) => c.packages.iter().any(|p| d.matches(&p.package())),
            Criterion::Predicate(p) => c.predicates.iter().any(|v| glob(p, v)),
            Criterion::BuiltAfter(t) => c.built.iter().filter_map(|b| time(b)).any(|b| b >= *t),
            Criterion::BuiltBefore(t) => c.built.iter().filter_map(|b| time(b)).any(|b| b < *t),
        }
    }

    /// The criterion in the words of its flag.
    pub fn words(&self) -> String {
        match self {
            Criterion::Builder(p) => format!("builder {p}"),
            Criterion::Source(p) => format!("source {p}"),
            Criterion::Workflow(p) => format!("workflow {p}"),
            Criterion::Commit(p) => format!("commit {p}"),
            Criterion::Signer(p) => format!("signer {p}"),
            Criterion::Package(asked, _) => format!("package {asked}"),
            Criterion::Predicate(p) => format!("predicate {p}"),
            Criterion::BuiltAfter(t) => format!("built after {}", t.to_rfc3339()),
            Criterion::BuiltBefore(t) => format!("built before {}", t.to_rfc3339()),
        }
    }

    /// The term kind and the SQL GLOB patterns narrowing candidates (a term matching any of
    /// them); None: no narrowing for this one.
    pub(super) fn sql(&self) -> Option<(&'static str, Vec<String>)> {
        // SQL GLOB and wildmatch agree on `*` and `?`; a pattern with `[` is narrowed by kind
        // only, and Rust decides.
        let g = |p: &str| {
            if p.contains('[') {
                "*".to_string()
            } else {
                p.to_string()
            }
        };
        match self {
            Criterion::Builder(p) => Some(("builder", vec![g(p)])),
            Criterion::Source(p) => Some(("source", vec![g(p)])),
            Criterion::Workflow(p) => Some(("workflow", vec![g(p)])),
            Criterion::Commit(p) => Some(("commit", vec![format!("{}*", g(p))])),
            Criterion::Predicate(p) => Some(("predicate", vec![g(p)])),
            Criterion::Package(_, d) => Some(("package", vec![g(&d.name.to_ascii_lowercase())])),
            // As `signer_hit`: a name or identity as written, a fingerprint lowercased (or
            // its hex prefix). Terms hold names and identities as written, fingerprints
            // lowercased.
            Criterion::Signer(p) => {
                let lower = p.to_ascii_lowercase();
                let mut v = vec![g(p), g(&lower)];
                if lower.len() >= 8 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
                    v.push(format!("{lower}*"));
                }
                v.sort();
                v.dedup();
                Some(("signer", v))
            }
            Criterion::BuiltAfter(_) | Criterion::BuiltBefore(_) => None,
        }
    }
}

/// The criterion keys, as `find` flags and `:find` words name them.
pub const KEYS: [&str; 9] = [
    "builder",
    "source",
    "workflow",
    "commit",
    "signer",
    "package",
    "predicate",
    "built-after",
    "built-before",
];

impl Query {
    /// A query from (key, value) pairs (`builder`, `commit`, `package`, … as in `KEYS`) and
    /// the sources it covers. Every value is checked; an unknown key is named.
    pub fn build(pairs: &[(&str, String)], sources: Vec<String>) -> Result<Query, String> {
        let mut c = vec![];
        for (k, v) in pairs {
            c.push(match *k {
                "builder" => Criterion::Builder(v.clone()),
                "source" => Criterion::Source(v.clone()),
                "workflow" => Criterion::Workflow(v.clone()),
                "commit" => {
                    let x = v.trim().to_ascii_lowercase();
                    if x.len() < 7 || !x.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(format!(
                            "commit {:?}: give at least 7 hex digits of the commit",
                            crate::text::sanitize(&x)
                        ));
                    }
                    Criterion::Commit(x)
                }
                "signer" => Criterion::Signer(v.clone()),
                "package" => Criterion::Package(v.clone(), parse_package(v)?),
                "predicate" => Criterion::Predicate(v.clone()),
                "built-after" | "after" => Criterion::BuiltAfter(parse_time(v)?),
                "built-before" | "before" => Criterion::BuiltBefore(parse_time(v)?),
                other => {
                    return Err(format!(
                        "unknown criterion {:?} (use {})",
                        crate::text::sanitize(other),
                        KEYS.join(", ")
                    ))
                }
            });
        }
        if c.is_empty() {
            return Err(format!("say what to find: {}", KEYS.join(", ")));
        }
        Ok(Query {
            criteria: c,
            sources,
        })
    }

    /// A query from words `key=value …` (the console's `:find`); `in=SOURCE` narrows.
    pub fn parse_words(text: &str) -> Result<Query, String> {
        let mut pairs = vec![];
        let mut sources = vec![];
        for w in text.split_whitespace() {
            let (k, v) = w.split_once('=').ok_or_else(|| {
                format!(
                    "{:?}: write key=value (builder=…, commit=…)",
                    crate::text::sanitize(w)
                )
            })?;
            if k == "in" {
                sources.push(v.to_string());
            } else {
                pairs.push((k, v.to_string()));
            }
        }
        Query::build(&pairs, sources)
    }

    /// How `f` answers: None when some criterion holds on nothing it says. Every criterion
    /// asks whether some value holds, so it holds on verified and claimed facts together
    /// exactly when it holds on one of them.
    pub fn answer(&self, f: &DigestFacts) -> Option<Match> {
        if !self.sources.is_empty() && !self.sources.contains(&f.source) {
            return None;
        }
        let mut verified = true;
        for c in &self.criteria {
            if c.holds(&f.verified) {
                continue;
            }
            if c.holds(&f.unverified) {
                verified = false;
                continue;
            }
            return None;
        }
        Some(if verified {
            Match::Verified
        } else {
            Match::Unverified
        })
    }

    /// The criteria that hold only on claims (for saying why a hit is unverified).
    pub fn claimed_only(&self, f: &DigestFacts) -> Vec<String> {
        self.criteria
            .iter()
            .filter(|c| !c.holds(&f.verified))
            .map(Criterion::words)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_and_ranges() {
        let d = parse_package("golang.org/x/crypto@<0.31.0").unwrap();
        assert_eq!(d.name, "golang.org/x/crypto");
        let d = parse_package("@types/node@>=18,<20").unwrap();
        assert_eq!(d.name, "@types/node");
        let d = parse_package("left-pad").unwrap();
        assert_eq!(d.name, "left-pad");
        assert!(parse_package("x@").is_err());
        assert!(parse_package("x@~~1").is_err());
    }

    #[test]
    fn a_claim_never_makes_a_verified_match() {
        let mut f = DigestFacts::default();
        f.unverified.builders.push("https://bad/builder".into());
        f.verified.builders.push("https://good/builder".into());
        let q = |b: &str| Query {
            criteria: vec![Criterion::Builder(b.into())],
            sources: vec![],
        };
        assert_eq!(q("https://bad/*").answer(&f), Some(Match::Unverified));
        assert_eq!(q("https://good/*").answer(&f), Some(Match::Verified));
        assert_eq!(q("https://other/*").answer(&f), None);
    }

    #[test]
    fn times_and_dates() {
        assert!(parse_time("2026-11-30").is_ok());
        assert!(parse_time("2026-11-30T10:00:00Z").is_ok());
        assert!(parse_time("yesterday").is_err());
    }
}
