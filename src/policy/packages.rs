//! Denied packages: a name or purl with an optional version range, matched against SBOM
//! packages. Ranges are comparators (`>=2.0.0 <2.17.1`) or a purl version range
//! (`vers:maven/>=2.0.0|<2.17.1`); versions compare by the package's ecosystem (see `versions`).

use super::versions::Scheme;
use crate::evidence::sbom::Package;
use std::cmp::Ordering;

/// A comparator of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Op {
    fn parse(op: &str) -> Option<Op> {
        Some(match op {
            "<" => Op::Lt,
            "<=" => Op::Le,
            "=" | "" => Op::Eq,
            "!=" => Op::Ne,
            ">=" => Op::Ge,
            ">" => Op::Gt,
            _ => return None,
        })
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Lt => o.is_lt(),
            Op::Le => o.is_le(),
            Op::Eq => o.is_eq(),
            Op::Ne => o.is_ne(),
            Op::Ge => o.is_ge(),
            Op::Gt => o.is_gt(),
        }
    }
}

/// Which versions a denial covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    /// Every version.
    Any,
    /// Every comparator must hold (`>=2.0.0 <2.17.1`).
    All(Vec<(Op, String)>),
    /// A purl version range: its scheme and constraints, evaluated as the vers spec says.
    Vers(Scheme, Vec<(Op, String)>),
}

/// One `deny` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub name: String,
    pub range: Range,
}

fn split_op(c: &str) -> Result<(Op, String), String> {
    let op_len = c
        .find(|ch: char| !matches!(ch, '<' | '>' | '=' | '!'))
        .ok_or_else(|| format!("{c:?} has no version"))?;
    let (op, v) = c.split_at(op_len);
    let op =
        Op::parse(op).ok_or_else(|| format!("unknown comparator {op:?} (use < <= = != >= >)"))?;
    if !v.starts_with(|ch: char| ch.is_ascii_alphanumeric()) {
        return Err(format!(
            "{c:?}: unknown comparator or no version (use < <= = != >= > and a version)"
        ));
    }
    Ok((op, v.to_string()))
}

/// Parses `vers:<scheme>/<constraint>|<constraint>…` (`*` for every version).
fn parse_vers(s: &str) -> Result<Range, String> {
    let rest = s.strip_prefix("vers:").ok_or("not a vers: range")?;
    let (scheme, constraints) = rest
        .split_once('/')
        .ok_or_else(|| format!("{s:?}: a vers range is vers:<scheme>/<constraints>"))?;
    if scheme.is_empty() {
        return Err(format!("{s:?} names no versioning scheme"));
    }
    let constraints = constraints.trim();
    if constraints == "*" {
        return Ok(Range::Any);
    }
    let mut out = vec![];
    for c in constraints.split('|') {
        let c = c.trim();
        if c.is_empty() {
            return Err(format!("{s:?} has an empty constraint"));
        }
        out.push(split_op(c)?);
    }
    Ok(Range::Vers(Scheme::for_vers(scheme), out))
}

impl Denial {
    /// `name` or `pkg:type/name`, optionally followed by comparators (`<4.17.21`, `>=2 <3`) or
    /// one `vers:` range.
    pub fn parse(s: &str) -> Result<Denial, String> {
        let mut parts = s.split_whitespace();
        let name = parts.next().ok_or("empty entry")?.to_string();
        let rest: Vec<&str> = parts.collect();
        let range = match rest.as_slice() {
            [] => Range::Any,
            [one] if one.starts_with("vers:") => parse_vers(one)?,
            many => {
                if many.iter().any(|c| c.starts_with("vers:")) {
                    return Err("a vers: range stands alone after the name".into());
                }
                Range::All(many.iter().map(|c| split_op(c)).collect::<Result<_, _>>()?)
            }
        };
        Ok(Denial { name, range })
    }

    fn name_hit(&self, p: &Package) -> bool {
        if self.name.starts_with("pkg:") {
            p.purl.as_deref().is_some_and(|purl| {
                let base = purl.split(['@', '?', '#']).next().unwrap_or(purl);
                base.eq_ignore_ascii_case(&self.name)
            })
        } else {
            p.name.eq_ignore_ascii_case(&self.name)
                || p.purl.as_deref().is_some_and(|u| {
                    u.split(['@', '?', '#'])
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase()
                        .ends_with(&format!("/{}", self.name.to_ascii_lowercase()))
                })
        }
    }

    /// True when `p` is denied. A version that cannot be compared is denied: a range cannot
    /// clear what it cannot order (fail closed).
    pub fn matches(&self, p: &Package) -> bool {
        if !self.name_hit(p) {
            return false;
        }
        let Some(v) = p.version.as_deref().filter(|v| !v.is_empty()) else {
            return true;
        };
        let from_purl = Scheme::of_purl(p.purl.as_deref());
        match &self.range {
            Range::Any => true,
            Range::All(cs) => cs
                .iter()
                .all(|(op, want)| from_purl.compare(v, want).is_none_or(|o| op.holds(o))),
            Range::Vers(scheme, cs) => {
                let scheme = if from_purl == Scheme::Generic {
                    *scheme
                } else {
                    from_purl
                };
                in_vers(scheme, v, cs).unwrap_or(true)
            }
        }
    }
}

/// The vers containment check: an equal (`=`) constraint includes, a `!=` excludes; the
/// remaining comparators, in version order, form intervals. `None` when a version does not
/// compare.
fn in_vers(scheme: Scheme, v: &str, cs: &[(Op, String)]) -> Option<bool> {
    for (op, c) in cs {
        let o = scheme.compare(v, c)?;
        match op {
            Op::Eq if o.is_eq() => return Some(true),
            Op::Ne if o.is_eq() => return Some(false),
            Op::Le | Op::Ge if o.is_eq() => return Some(true),
            _ => {}
        }
    }
    let mut ranged: Vec<&(Op, String)> = cs
        .iter()
        .filter(|(op, _)| !matches!(op, Op::Eq | Op::Ne))
        .collect();
    if ranged.is_empty() {
        // Only `!=` constraints (none of which matched): every other version is in.
        return Some(cs.iter().any(|(op, _)| *op == Op::Ne));
    }
    let mut sort_ok = true;
    ranged.sort_by(|a, b| {
        scheme.compare(&a.1, &b.1).unwrap_or_else(|| {
            sort_ok = false;
            Ordering::Equal
        })
    });
    if !sort_ok {
        return None;
    }
    let lower = |op: Op| matches!(op, Op::Gt | Op::Ge);
    for (i, (op, c)) in ranged.iter().enumerate() {
        let o = scheme.compare(v, c)?;
        let next = ranged.get(i + 1);
        if i == 0 && !lower(*op) && op.holds(o) {
            return Some(true);
        }
        if lower(*op) {
            match next {
                None => {
                    if op.holds(o) {
                        return Some(true);
                    }
                }
                Some((nop, nc)) if !lower(*nop) => {
                    let no = scheme.compare(v, nc)?;
                    if op.holds(o) && nop.holds(no) {
                        return Some(true);
                    }
                }
                Some(_) => {}
            }
        }
    }
    Some(false)
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

    #[test]
    fn ranges_use_the_ecosystem_ordering() {
        // Maven: 2.0 is 2.0.0, so ">=2.0.0" covers it; a beta is below 2.0.
        let d = Denial::parse("log4j-core >=2.0 <2.17.1").expect("parse");
        let m = |v: &str| {
            pkg(
                "log4j-core",
                v,
                &format!("pkg:maven/org.apache.logging.log4j/log4j-core@{v}"),
            )
        };
        assert!(d.matches(&m("2.0.0")));
        assert!(!d.matches(&m("2.0-beta9")));
        assert!(d.matches(&m("2.17.0")));
        // npm: a prerelease sorts below its release.
        let d = Denial::parse("pkg:npm/lodash <4.17.21").expect("parse");
        assert!(d.matches(&pkg(
            "lodash",
            "4.17.21-rc.1",
            "pkg:npm/lodash@4.17.21-rc.1"
        )));
        assert!(!d.matches(&pkg("lodash", "4.17.21", "pkg:npm/lodash@4.17.21")));
        // PyPI and Debian.
        let d = Denial::parse("requests <2.32.0").expect("parse");
        assert!(d.matches(&pkg("requests", "2.32.0rc1", "pkg:pypi/requests@2.32.0rc1")));
        let d = Denial::parse("openssl <3.0.11-1~deb12u2").expect("parse");
        assert!(d.matches(&pkg(
            "openssl",
            "3.0.11-1~deb12u1",
            "pkg:deb/debian/openssl@3.0.11-1~deb12u1"
        )));
        assert!(!d.matches(&pkg(
            "openssl",
            "3.0.11-1",
            "pkg:deb/debian/openssl@3.0.11-1"
        )));
    }

    #[test]
    fn vers_ranges() {
        let d = Denial::parse("log4j-core vers:maven/>=2.0.0|<2.17.1").expect("parse");
        let m = |v: &str| {
            pkg(
                "log4j-core",
                v,
                &format!("pkg:maven/org.apache/log4j-core@{v}"),
            )
        };
        assert!(d.matches(&m("2.14.1")));
        assert!(!d.matches(&m("2.17.1")));
        assert!(!d.matches(&m("1.2.17")));
        // Two intervals and a single version.
        let d = Denial::parse("x vers:npm/>=1.0.0|<1.2.0|=1.5.0|>=2.0.0|<2.1.0").expect("parse");
        let n = |v: &str| pkg("x", v, &format!("pkg:npm/x@{v}"));
        assert!(d.matches(&n("1.1.0")));
        assert!(!d.matches(&n("1.3.0")));
        assert!(d.matches(&n("1.5.0")));
        assert!(d.matches(&n("2.0.5")));
        assert!(!d.matches(&n("2.1.0")));
        let d = Denial::parse("x vers:npm/!=1.0.0").expect("parse");
        assert!(!d.matches(&n("1.0.0")));
        assert!(d.matches(&n("1.0.1")));
        assert!(Denial::parse("x vers:npm/*")
            .expect("star")
            .matches(&n("9.9.9")));
        assert!(Denial::parse("x vers:npm").is_err());
        assert!(Denial::parse("x vers:npm/>=1|").is_err());
        assert!(Denial::parse("x vers:npm/<1 >2").is_err());
        // A version that does not compare is denied (fail closed).
        assert!(Denial::parse("x <2.0.0")
            .expect("p")
            .matches(&n("not-a-version")));
    }
}
