//! Denied packages: a name or purl with an optional version range, matched against SBOM packages.

use crate::evidence::sbom::Package;

/// One `deny` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub name: String,
    pub constraints: Vec<(String, Vec<u64>)>,
}

fn version(v: &str) -> Vec<u64> {
    v.trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .take_while(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

impl Denial {
    /// `name`, `pkg:type/name`, optionally followed by comparators like `<4.17.21` or `>=2 <3`.
    pub fn parse(s: &str) -> Result<Denial, String> {
        let mut parts = s.split_whitespace();
        let name = parts.next().ok_or("empty entry")?.to_string();
        let mut constraints = vec![];
        for c in parts {
            let op_len = c
                .find(|ch: char| ch.is_ascii_digit() || ch == 'v')
                .ok_or_else(|| format!("{c:?} has no version"))?;
            let (op, v) = c.split_at(op_len);
            if !matches!(op, "<" | "<=" | "=" | ">=" | ">") {
                return Err(format!("unknown comparator {op:?} (use < <= = >= >)"));
            }
            let parsed = version(v);
            if parsed.is_empty() {
                return Err(format!("{v:?} is not a version"));
            }
            constraints.push((op.to_string(), parsed));
        }
        Ok(Denial { name, constraints })
    }

    /// True when `p` is denied.
    pub fn matches(&self, p: &Package) -> bool {
        let name_hit = if self.name.starts_with("pkg:") {
            p.purl.as_deref().is_some_and(|purl| {
                let base = purl.split('@').next().unwrap_or(purl);
                base.eq_ignore_ascii_case(&self.name)
            })
        } else {
            p.name.eq_ignore_ascii_case(&self.name)
                || p.purl.as_deref().is_some_and(|u| {
                    u.split('@')
                        .next()
                        .unwrap_or("")
                        .ends_with(&format!("/{}", self.name))
                })
        };
        if !name_hit {
            return false;
        }
        if self.constraints.is_empty() {
            return true;
        }
        let Some(v) = p.version.as_deref().map(version).filter(|v| !v.is_empty()) else {
            // A version range cannot be checked without a version: treat as denied (fail closed).
            return true;
        };
        self.constraints.iter().all(|(op, want)| {
            let ord = v.cmp(want);
            match op.as_str() {
                "<" => ord.is_lt(),
                "<=" => ord.is_le(),
                "=" => ord.is_eq(),
                ">=" => ord.is_ge(),
                _ => ord.is_gt(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, v: &str, purl: &str) -> Package {
        Package {
            name: name.into(),
            version: Some(v.into()),
            purl: Some(purl.into()),
            license: None,
        }
    }

    #[test]
    fn ranges_and_purls() {
        let d = Denial::parse("lodash <4.17.21").expect("parse");
        assert!(d.matches(&pkg("lodash", "4.17.20", "pkg:npm/lodash@4.17.20")));
        assert!(!d.matches(&pkg("lodash", "4.17.21", "pkg:npm/lodash@4.17.21")));
        let d = Denial::parse("pkg:npm/left-pad").expect("parse");
        assert!(d.matches(&pkg("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0")));
        let d = Denial::parse("log4j-core >=2.0.0 <2.17.1").expect("parse");
        assert!(d.matches(&pkg(
            "log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        )));
        assert!(!d.matches(&pkg(
            "log4j-core",
            "2.23.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.23.1"
        )));
        assert!(Denial::parse("x ~1").is_err());
    }
}
