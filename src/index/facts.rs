//! What the index keeps per digest: the facts its evidence states, split into those a trusted
//! signature vouches for (verified) and those nothing vouches for (claims). A claim can never
//! become a verified fact by being indexed; a query says which kind matched.

use crate::evidence::{Binding, EvidenceItem, Kind, Signer};
use crate::gate::Judgement;
use serde::{Deserialize, Serialize};

/// One signer, every way a query may name it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerFact {
    /// The key's name in the trust file, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key's fingerprint (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A keyless certificate's identity (subject) and issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl SignerFact {
    pub fn from_signer(s: &Signer) -> SignerFact {
        match s {
            Signer::Key { fingerprint, name } => SignerFact {
                name: name.clone(),
                fingerprint: Some(fingerprint.clone()),
                ..Default::default()
            },
            Signer::Keyless {
                subject, issuer, ..
            } => SignerFact {
                identity: Some(subject.clone()),
                issuer: Some(issuer.clone()),
                ..Default::default()
            },
        }
    }

    /// The words a terminal shows.
    pub fn words(&self) -> String {
        match (&self.name, &self.fingerprint, &self.identity) {
            (Some(n), Some(f), _) => format!("key {n} ({})", head(f, 16)),
            (None, Some(f), _) => format!("key {}", head(f, 16)),
            (_, _, Some(i)) => format!(
                "{i} (issuer {})",
                self.issuer.as_deref().unwrap_or("unknown")
            ),
            _ => "unknown signer".into(),
        }
    }
}

fn head(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// One package an SBOM lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFact {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

impl PackageFact {
    pub fn package(&self) -> crate::evidence::sbom::Package {
        crate::evidence::sbom::Package {
            name: self.name.clone(),
            version: self.version.clone(),
            purl: self.purl.clone(),
            license: None,
        }
    }
}

/// One kind of facts: every value its evidence gives, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builders: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workflows: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predicates: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<SignerFact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<PackageFact>,
    /// When it was built (RFC 3339): the provenance's finish (else start) time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub built: Vec<String>,
}

fn add<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

impl Claims {
    fn add_item(&mut self, i: &EvidenceItem) {
        if let Some(t) = &i.predicate_type {
            add(&mut self.predicates, t.clone());
        }
        if let Some(p) = &i.provenance {
            if !p.builder_id.is_empty() {
                add(&mut self.builders, p.builder_id.clone());
            }
            if let Some(s) = &p.source_repo {
                add(&mut self.sources, s.clone());
            }
            if let Some(w) = &p.workflow_path {
                add(&mut self.workflows, w.clone());
            }
            if let Some(c) = &p.commit {
                add(&mut self.commits, c.to_ascii_lowercase());
            }
            if let Some(t) = p.finished.as_ref().or(p.started.as_ref()) {
                add(&mut self.built, t.clone());
            }
        }
        if let Some(s) = &i.sbom {
            for p in &s.packages {
                add(
                    &mut self.packages,
                    PackageFact {
                        name: p.name.clone(),
                        version: p.version.clone(),
                        purl: p.purl.clone(),
                    },
                );
            }
        }
    }

    /// True when nothing was said.
    pub fn is_empty(&self) -> bool {
        *self == Claims::default()
    }
}

/// What the index holds about one digest in one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestFacts {
    pub source: String,
    pub repository: String,
    pub digest: String,
    /// The image's own creation time (its config): digest-checked, but the builder's claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Facts from evidence a trusted signature covers and whose subject is this digest.
    pub verified: Claims,
    /// Facts from evidence nothing trusted vouches for (unsigned, untrusted or invalid).
    pub unverified: Claims,
}

/// True when `i` is this digest's evidence and a trusted signature vouches for it.
fn vouched(i: &EvidenceItem) -> bool {
    i.signer.is_verified() && i.binding == Binding::Matches && i.problem.is_none()
}

impl DigestFacts {
    /// The facts of a gate judgement.
    pub fn from_judgement(source: &str, repository: &str, j: &Judgement) -> DigestFacts {
        let mut f = DigestFacts {
            source: source.to_string(),
            repository: repository.to_string(),
            digest: j.digest.clone(),
            created: j.created.clone(),
            ..Default::default()
        };
        for i in &j.discovery.items {
            if matches!(i.kind, Kind::Record | Kind::Invalid)
                || matches!(i.binding, Binding::DescribesOther(_))
            {
                continue;
            }
            // Signers: every signature check that names one; proven ones are facts.
            for c in &i.signer.signatures {
                if let Some(s) = &c.signer {
                    let fact = SignerFact::from_signer(s);
                    if c.result == crate::evidence::trust::CheckResult::Verified
                        && i.binding == Binding::Matches
                    {
                        add(&mut f.verified.signers, fact);
                    } else {
                        add(&mut f.unverified.signers, fact);
                    }
                }
            }
            if i.kind == Kind::Signature {
                continue;
            }
            if vouched(i) {
                f.verified.add_item(i);
            } else {
                f.unverified.add_item(i);
            }
        }
        // A claim already proven is not repeated among the claims.
        let v = f.verified.clone();
        let u = &mut f.unverified;
        u.builders.retain(|x| !v.builders.contains(x));
        u.sources.retain(|x| !v.sources.contains(x));
        u.workflows.retain(|x| !v.workflows.contains(x));
        u.commits.retain(|x| !v.commits.contains(x));
        u.predicates.retain(|x| !v.predicates.contains(x));
        u.signers.retain(|x| !v.signers.contains(x));
        u.packages.retain(|x| !v.packages.contains(x));
        u.built.retain(|x| !v.built.contains(x));
        f
    }

    /// The searchable terms: (kind, value, verified). Values are lowercased where queries
    /// compare without case (packages, signers' fingerprints, commits).
    pub fn terms(&self) -> Vec<(&'static str, String, bool)> {
        let mut out = vec![];
        for (claims, verified) in [(&self.verified, true), (&self.unverified, false)] {
            for b in &claims.builders {
                out.push(("builder", b.clone(), verified));
            }
            for s in &claims.sources {
                out.push(("source", s.clone(), verified));
            }
            for w in &claims.workflows {
                out.push(("workflow", w.clone(), verified));
            }
            for c in &claims.commits {
                out.push(("commit", c.clone(), verified));
            }
            for p in &claims.predicates {
                out.push(("predicate", p.clone(), verified));
            }
            for s in &claims.signers {
                for v in [&s.name, &s.identity].into_iter().flatten() {
                    out.push(("signer", v.clone(), verified));
                }
                if let Some(fp) = &s.fingerprint {
                    out.push(("signer", fp.to_ascii_lowercase(), verified));
                }
            }
            for p in &claims.packages {
                for n in package_terms(p) {
                    out.push(("package", n, verified));
                }
            }
            for b in &claims.built {
                out.push(("built", b.clone(), verified));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The names a package can be asked for by: its name, and its purl's base and every tail of
/// it (`pkg:golang/golang.org/x/crypto` answers to `golang.org/x/crypto`, `x/crypto`,
/// `crypto`), lowercased.
pub fn package_terms(p: &PackageFact) -> Vec<String> {
    let mut out = vec![p.name.to_ascii_lowercase()];
    if let Some(purl) = &p.purl {
        let base = purl
            .split(['@', '?', '#'])
            .next()
            .unwrap_or(purl)
            .to_ascii_lowercase();
        let mut rest = base.as_str();
        out.push(base.clone());
        while let Some((_, tail)) = rest.split_once('/') {
            if !tail.is_empty() {
                out.push(tail.to_string());
            }
            rest = tail;
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purl_answers_to_each_tail() {
        let p = PackageFact {
            name: "crypto".into(),
            version: Some("0.21.0".into()),
            purl: Some("pkg:golang/golang.org/x/crypto@v0.21.0".into()),
        };
        let t = package_terms(&p);
        for want in [
            "crypto",
            "x/crypto",
            "golang.org/x/crypto",
            "pkg:golang/golang.org/x/crypto",
        ] {
            assert!(t.contains(&want.to_string()), "{want} in {t:?}");
        }
    }
}
