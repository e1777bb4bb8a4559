//! How a digest's facts are stored: the facts without their SBOM packages in one row (small:
//! read for every candidate of a question), the packages apart (read only when a question is
//! about packages). The row's MAC covers its place, the trust it was verified under, its facts
//! and the SHA-256 of its packages, so either part edited alone is found.

use super::facts::PackageFact;
use super::{db_err, DigestFacts, Index, IndexError, Place};
use hmac::Mac;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::HashMap;

/// One digest's stored text.
pub(super) struct Row {
    /// The facts, their packages left out (JSON).
    pub facts: String,
    /// The packages: verified and claimed (JSON).
    pub packages: String,
    /// The SHA-256 of `packages` (hex).
    pub packages_sha256: String,
    /// The digest's evidence tags when it was judged (`evidence_marks`): when they change,
    /// the digest is judged again.
    pub evidence: String,
}

#[derive(Default, Serialize, Deserialize)]
struct Packages {
    #[serde(default)]
    verified: Vec<PackageFact>,
    #[serde(default)]
    unverified: Vec<PackageFact>,
}

/// Per digest, the evidence tags (`sha256-<hex>`, `.sig`, `.att`, `.sbom`) a tag list holds
/// for it, as one string: a new or removed evidence tag changes it.
pub fn evidence_marks(evidence_tags: &[String]) -> HashMap<String, String> {
    let mut by: HashMap<String, Vec<&str>> = HashMap::new();
    for t in evidence_tags {
        let Some(rest) = t.strip_prefix("sha256-") else {
            continue;
        };
        let hex = rest.split('.').next().unwrap_or("");
        by.entry(format!("sha256:{hex}")).or_default().push(t);
    }
    by.into_iter()
        .map(|(d, mut v)| {
            v.sort();
            (d, v.join(","))
        })
        .collect()
}

/// The columns `Row::read` reads, in its order; a query selects the packages (or NULL) next.
pub(super) const ROW_COLUMNS: &str = "d.facts, d.packages_sha256, d.evidence, d.mac";

impl Row {
    /// A stored row and its MAC from `ROW_COLUMNS` at column `at`, and the packages column
    /// after them (NULL when the query does not read them).
    pub fn read(r: &rusqlite::Row, at: usize) -> rusqlite::Result<(Row, String)> {
        Ok((
            Row {
                facts: r.get(at)?,
                packages_sha256: r.get(at + 1)?,
                evidence: r.get(at + 2)?,
                packages: r.get::<_, Option<String>>(at + 4)?.unwrap_or_default(),
            },
            r.get(at + 3)?,
        ))
    }

    pub fn encode(f: &DigestFacts, evidence: &str) -> Row {
        let mut small = f.clone();
        let p = Packages {
            verified: std::mem::take(&mut small.verified.packages),
            unverified: std::mem::take(&mut small.unverified.packages),
        };
        let packages = serde_json::to_string(&p).unwrap_or_default();
        Row {
            facts: serde_json::to_string(&small).unwrap_or_default(),
            packages_sha256: hex::encode(sha2::Sha256::digest(packages.as_bytes())),
            packages,
            evidence: evidence.to_string(),
        }
    }
}

impl Index {
    pub(super) fn mac(&self, place: [&str; 3], trust: &str, row: &Row) -> String {
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        for part in [
            place[0],
            place[1],
            place[2],
            trust,
            &row.facts,
            &row.packages_sha256,
            &row.evidence,
        ] {
            m.update(part.as_bytes());
            m.update(&[0]);
        }
        hex::encode(m.finalize().into_bytes())
    }

    /// The facts of a stored row once its MAC checks out; with `packages`, its packages too
    /// (after their hash does). An error says what did not check out.
    pub(super) fn authentic(
        &self,
        trust: &str,
        row: &Row,
        mac: &str,
        packages: bool,
    ) -> Result<DigestFacts, String> {
        let mut facts: DigestFacts =
            serde_json::from_str(&row.facts).map_err(|e| format!("a row does not read ({e})"))?;
        let edited = || {
            format!(
                "the row for {} does not carry this user's MAC (edited?)",
                crate::oci::digest::short(&facts.digest)
            )
        };
        if self.mac(
            [&facts.source, &facts.repository, &facts.digest],
            trust,
            row,
        ) != mac
        {
            return Err(edited());
        }
        if packages {
            if hex::encode(sha2::Sha256::digest(row.packages.as_bytes())) != row.packages_sha256 {
                return Err(edited());
            }
            let p: Packages = serde_json::from_str(&row.packages)
                .map_err(|e| format!("a row's packages do not read ({e})"))?;
            facts.verified.packages = p.verified;
            facts.unverified.packages = p.unverified;
        }
        Ok(facts)
    }

    /// Checks every row's MAC and that the term table holds exactly the terms of its rows.
    pub(super) fn verify_all(&self) -> Result<(), String> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT d.id, d.trust, {ROW_COLUMNS}, p.json \
                 FROM digests d LEFT JOIN packages p ON p.id = d.id"
            ))
            .map_err(|e| e.to_string())?;
        let rows = st
            .query_map([], |r| {
                let (row, mac) = Row::read(r, 2)?;
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, row, mac))
            })
            .map_err(|e| e.to_string())?;
        let mut expected: Vec<(i64, String, String, bool)> = vec![];
        for row in rows {
            let (id, trust, row, mac) = row.map_err(|e| e.to_string())?;
            let facts = self.authentic(&trust, &row, &mac, true)?;
            expected.extend(
                facts
                    .terms()
                    .into_iter()
                    .map(|(k, v, verified)| (id, k.to_string(), v, verified)),
            );
        }
        let mut st = self
            .conn
            .prepare("SELECT id, kind, value, verified FROM terms")
            .map_err(|e| e.to_string())?;
        let mut held: Vec<(i64, String, String, bool)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| e.to_string())?
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        expected.sort();
        held.sort();
        if expected != held {
            return Err("its search terms do not match its rows' MACs (edited?)".into());
        }
        Ok(())
    }

    /// The digests of `source`/`repository` indexed under `trust`, each with the evidence
    /// tags it was judged with. A row whose MAC does not check out is left out (judged again).
    pub fn known(
        &self,
        source: &str,
        repository: &str,
        trust: &str,
    ) -> Result<HashMap<String, String>, IndexError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT d.digest, {ROW_COLUMNS}, NULL FROM digests d \
                 WHERE d.source = ?1 AND d.repository = ?2 AND d.trust = ?3"
            ))
            .map_err(|e| db_err(&self.path, e))?;
        let rows = st
            .query_map(params![source, repository, trust], |r| {
                let (row, mac) = Row::read(r, 1)?;
                Ok((r.get::<_, String>(0)?, row, mac))
            })
            .map_err(|e| db_err(&self.path, e))?;
        let mut out = HashMap::new();
        for row in rows {
            let (digest, row, mac) = row.map_err(|e| db_err(&self.path, e))?;
            if self.mac([source, repository, &digest], trust, &row) == mac {
                out.insert(digest, row.evidence);
            }
        }
        Ok(out)
    }

    /// Stores (or replaces) the facts of one digest, with the tags that name it and its
    /// evidence tags' mark.
    pub fn put(
        &mut self,
        f: &DigestFacts,
        trust: &str,
        tags: &[String],
        evidence: &str,
    ) -> Result<(), IndexError> {
        self.put_many(
            std::slice::from_ref(f),
            trust,
            &[(tags.to_vec(), evidence.to_string())],
        )
    }

    /// Stores several digests in one transaction (`kept[i]`: the tags and evidence mark of
    /// `facts[i]`).
    pub fn put_many(
        &mut self,
        facts: &[DigestFacts],
        trust: &str,
        kept: &[(Vec<String>, String)],
    ) -> Result<(), IndexError> {
        let path = self.path.clone();
        let now = chrono::Utc::now().to_rfc3339();
        let rows: Vec<(Row, String)> = facts
            .iter()
            .zip(kept)
            .map(|(f, (_, evidence))| {
                let row = Row::encode(f, evidence);
                let mac = self.mac([&f.source, &f.repository, &f.digest], trust, &row);
                (row, mac)
            })
            .collect();
        let tx = self.conn.transaction().map_err(|e| db_err(&path, e))?;
        for ((f, (row, mac)), (t, _)) in facts.iter().zip(rows).zip(kept) {
            tx.execute(
                "DELETE FROM digests WHERE source = ?1 AND repository = ?2 AND digest = ?3",
                params![f.source, f.repository, f.digest],
            )
            .map_err(|e| db_err(&path, e))?;
            tx.execute(
                "INSERT INTO digests(source, repository, digest, trust, facts, packages_sha256, \
                 evidence, mac, tags, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    f.source,
                    f.repository,
                    f.digest,
                    trust,
                    row.facts,
                    row.packages_sha256,
                    row.evidence,
                    mac,
                    serde_json::to_string(t).unwrap_or_else(|_| "[]".into()),
                    now
                ],
            )
            .map_err(|e| db_err(&path, e))?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO packages(id, json) VALUES (?1, ?2)",
                params![id, row.packages],
            )
            .map_err(|e| db_err(&path, e))?;
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO terms(id, kind, value, verified) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(|e| db_err(&path, e))?;
            for (kind, value, verified) in f.terms() {
                st.execute(params![id, kind, value, verified])
                    .map_err(|e| db_err(&path, e))?;
            }
        }
        tx.commit().map_err(|e| db_err(&path, e))?;
        self.write_seal();
        Ok(())
    }

    /// Replaces the tags recorded for digests already indexed (tag → digest of one repository).
    pub fn set_tags(
        &mut self,
        source: &str,
        repository: &str,
        tags: &[(String, String)],
    ) -> Result<(), IndexError> {
        let path = self.path.clone();
        let mut by: HashMap<&str, Vec<String>> = HashMap::new();
        for (t, d) in tags {
            by.entry(d.as_str()).or_default().push(t.clone());
        }
        let tx = self.conn.transaction().map_err(|e| db_err(&path, e))?;
        tx.execute(
            "UPDATE digests SET tags = '[]' WHERE source = ?1 AND repository = ?2",
            params![source, repository],
        )
        .map_err(|e| db_err(&path, e))?;
        for (d, t) in by {
            tx.execute(
                "UPDATE digests SET tags = ?4 WHERE source = ?1 AND repository = ?2 AND digest = ?3",
                params![
                    source,
                    repository,
                    d,
                    serde_json::to_string(&t).unwrap_or_else(|_| "[]".into())
                ],
            )
            .map_err(|e| db_err(&path, e))?;
        }
        tx.commit().map_err(|e| db_err(&path, e))?;
        self.write_seal();
        Ok(())
    }

    /// Where a digest (or a digest prefix of 8 hex digits or more) is indexed:
    /// (source, repository, digest, tags).
    pub fn by_digest(&self, digest: &str) -> Result<Vec<Place>, IndexError> {
        let pattern: String = digest
            .chars()
            .filter(|c| c.is_ascii_hexdigit() || *c == ':' || c.is_ascii_alphanumeric())
            .collect();
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT source, repository, digest, tags FROM digests WHERE digest GLOB ?1 \
                 ORDER BY source, repository",
            )
            .map_err(|e| db_err(&self.path, e))?;
        let rows = st
            .query_map(params![format!("{pattern}*")], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| db_err(&self.path, e))?;
        let mut out = vec![];
        for r in rows {
            let (s, repo, d, tags) = r.map_err(|e| db_err(&self.path, e))?;
            out.push(Place {
                source: s,
                repository: repo,
                digest: d,
                tags: serde_json::from_str(&tags).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// How many digests the index holds.
    pub fn len(&self) -> Result<usize, IndexError> {
        self.conn
            .query_row("SELECT count(*) FROM digests", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| db_err(&self.path, e))
    }

    /// True when the index holds nothing.
    pub fn is_empty(&self) -> Result<bool, IndexError> {
        Ok(self.len()? == 0)
    }
}
