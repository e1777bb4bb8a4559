//! Version orderings by ecosystem, picked from a package's purl type: semver for npm and cargo
//! (prereleases below their release), Maven's ComparableVersion for maven (`2.0` = `2.0.0`,
//! `2.0-beta9` < `2.0`), PEP 440 for pypi, Debian's for deb. Anything else uses the fallback: a
//! dotted numeric comparison where a missing component is zero and a trailing pre-release
//! (`-rc1`, `~beta`, `a1`) sorts below the release, text compared byte-wise.

use std::cmp::Ordering;

/// How versions of one ecosystem compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Semver,
    Maven,
    Pep440,
    Debian,
    Generic,
}

impl Scheme {
    /// The scheme for a purl type (`npm`, `cargo`, `maven`, `pypi`, `deb`, …).
    pub fn for_purl_type(t: &str) -> Scheme {
        match t.to_ascii_lowercase().as_str() {
            "npm" | "cargo" | "golang" => Scheme::Semver,
            "maven" => Scheme::Maven,
            "pypi" => Scheme::Pep440,
            "deb" => Scheme::Debian,
            _ => Scheme::Generic,
        }
    }

    /// The scheme for a `vers:` URI scheme (`vers:npm/…`).
    pub fn for_vers(t: &str) -> Scheme {
        match t.to_ascii_lowercase().as_str() {
            "semver" | "npm" | "cargo" | "golang" => Scheme::Semver,
            "maven" => Scheme::Maven,
            "pypi" => Scheme::Pep440,
            "deb" => Scheme::Debian,
            _ => Scheme::Generic,
        }
    }

    /// The scheme of a package from its purl, when it has one.
    pub fn of_purl(purl: Option<&str>) -> Scheme {
        purl.and_then(|p| p.strip_prefix("pkg:"))
            .and_then(|p| p.split('/').next())
            .map(Scheme::for_purl_type)
            .unwrap_or(Scheme::Generic)
    }

    /// Orders `a` against `b`; `None` when either is not a version of this scheme.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        // The parsers see printable ASCII only; anything else is not a version.
        if !is_plain(a) || !is_plain(b) {
            return None;
        }
        match self {
            Scheme::Semver => {
                let p = |v: &str| semver::Version::parse(v.trim_start_matches('v')).ok();
                Some(p(a)?.cmp(&p(b)?))
            }
            Scheme::Maven => Some(
                mvn_version::ComparableVersion::new(a).cmp(&mvn_version::ComparableVersion::new(b)),
            ),
            Scheme::Pep440 => {
                let p = |v: &str| v.parse::<pep440_rs::Version>().ok();
                Some(p(a)?.cmp(&p(b)?))
            }
            Scheme::Debian => {
                let p = |v: &str| v.parse::<debversion::Version>().ok();
                Some(p(a)?.cmp(&p(b)?))
            }
            Scheme::Generic => generic(a, b),
        }
    }
}

fn is_plain(v: &str) -> bool {
    !v.is_empty() && v.len() <= 256 && v.bytes().all(|b| b.is_ascii_graphic())
}

/// The fallback: numeric components compared as numbers (missing ones are zero), then a
/// pre-release suffix below no suffix, suffixes compared as text.
fn generic(a: &str, b: &str) -> Option<Ordering> {
    fn split(v: &str) -> Option<(Vec<u64>, &str)> {
        let v = v.trim_start_matches('v');
        let end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(v.len());
        let (nums, rest) = v.split_at(end);
        let nums: Vec<u64> = nums
            .split('.')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        if nums.is_empty() {
            return None;
        }
        Some((nums, rest.trim_start_matches(['-', '~', '+', '_'])))
    }
    let (na, ra) = split(a)?;
    let (nb, rb) = split(b)?;
    let n = na.len().max(nb.len());
    for i in 0..n {
        let (x, y) = (
            na.get(i).copied().unwrap_or(0),
            nb.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return Some(x.cmp(&y));
        }
    }
    Some(match (ra.is_empty(), rb.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => ra.cmp(rb),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn each_ecosystem_orders_as_its_own_tools_do() {
        let c = |s: Scheme, a: &str, b: &str| s.compare(a, b);
        // semver: a prerelease is below its release.
        assert_eq!(c(Scheme::Semver, "1.0.0-rc.1", "1.0.0"), Some(Less));
        assert_eq!(c(Scheme::Semver, "1.0.0-alpha", "1.0.0-beta"), Some(Less));
        assert_eq!(c(Scheme::Semver, "4.17.20", "4.17.21"), Some(Less));
        // Maven: trailing zeros are equal, qualifiers below the release.
        assert_eq!(c(Scheme::Maven, "2.0", "2.0.0"), Some(Equal));
        assert_eq!(c(Scheme::Maven, "2.0-beta9", "2.0"), Some(Less));
        assert_eq!(c(Scheme::Maven, "2.17.1", "2.17.0"), Some(Greater));
        // PEP 440: pre-, post- and dev releases.
        assert_eq!(c(Scheme::Pep440, "1.0a1", "1.0"), Some(Less));
        assert_eq!(c(Scheme::Pep440, "1.0.post1", "1.0"), Some(Greater));
        assert_eq!(c(Scheme::Pep440, "1.0.dev0", "1.0a1"), Some(Less));
        assert_eq!(c(Scheme::Pep440, "2.0", "2.0.0"), Some(Equal));
        // Debian: epochs and tildes.
        assert_eq!(c(Scheme::Debian, "1:1.0-1", "2.0-1"), Some(Greater));
        assert_eq!(c(Scheme::Debian, "1.0~rc1-1", "1.0-1"), Some(Less));
        // The fallback: missing components are zero, a suffix is a prerelease.
        assert_eq!(c(Scheme::Generic, "2.0", "2.0.0"), Some(Equal));
        assert_eq!(c(Scheme::Generic, "2.0.0-rc1", "2.0.0"), Some(Less));
        assert_eq!(c(Scheme::Generic, "10.0", "9.9"), Some(Greater));
    }

    #[test]
    fn hostile_versions_are_not_versions() {
        for v in ["", "é.1", "1.0\u{202e}", &"9".repeat(300)] {
            for s in [
                Scheme::Semver,
                Scheme::Maven,
                Scheme::Pep440,
                Scheme::Debian,
                Scheme::Generic,
            ] {
                assert_eq!(s.compare(v, "1.0"), None, "{s:?} {v:?}");
            }
        }
        assert_eq!(Scheme::of_purl(Some("pkg:maven/a/b@1")), Scheme::Maven);
        assert_eq!(Scheme::of_purl(Some("pkg:pypi/x@1")), Scheme::Pep440);
        assert_eq!(Scheme::of_purl(None), Scheme::Generic);
    }
}
