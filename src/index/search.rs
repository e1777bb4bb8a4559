//! Answering a question: the term table narrows the candidates, then each candidate's
//! authenticated facts decide.

use super::query::Criterion;
use super::store::{Row, ROW_COLUMNS};
use super::{db_err, Hit, Index, IndexError, Match, Query};
use rusqlite::params;
use std::collections::BTreeSet;

impl Index {
    /// The digests that answer `q`, verified hits first. A row whose MAC does not check out
    /// is an error: the file was edited, and the caller rebuilds it.
    pub fn find(&self, q: &Query) -> Result<Vec<Hit>, IndexError> {
        let mut candidates: Option<BTreeSet<i64>> = None;
        for c in &q.criteria {
            let Some((kind, patterns)) = c.sql() else {
                continue;
            };
            let mut st = self
                .conn
                .prepare_cached("SELECT DISTINCT id FROM terms WHERE kind = ?1 AND value GLOB ?2")
                .map_err(|e| db_err(&self.path, e))?;
            let mut ids = BTreeSet::new();
            for pattern in patterns {
                for id in st
                    .query_map(params![kind, pattern], |r| r.get::<_, i64>(0))
                    .map_err(|e| db_err(&self.path, e))?
                {
                    ids.insert(id.map_err(|e| db_err(&self.path, e))?);
                }
            }
            candidates = Some(match candidates {
                None => ids,
                Some(prev) => prev.intersection(&ids).copied().collect(),
            });
        }
        let ids = candidates
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_else(|_| "[]".into()));
        // Packages are read (and their hash checked) only when the question is about them.
        let packages = q
            .criteria
            .iter()
            .any(|c| matches!(c, Criterion::Package(..)));
        let sql = format!(
            "SELECT d.trust, d.tags, {ROW_COLUMNS}, {} FROM digests d \
             WHERE {} ORDER BY d.repository, d.digest",
            if packages {
                "(SELECT p.json FROM packages p WHERE p.id = d.id)"
            } else {
                "NULL"
            },
            if ids.is_some() {
                "d.id IN (SELECT value FROM json_each(?1))"
            } else {
                "?1 IS NULL"
            }
        );
        let mut st = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| db_err(&self.path, e))?;
        let rows = st
            .query_map(params![ids], |r| {
                let (row, mac) = Row::read(r, 2)?;
                Ok((r.get::<_, String>(0)?, row, mac, r.get::<_, String>(1)?))
            })
            .map_err(|e| db_err(&self.path, e))?;
        let mut out = vec![];
        for row in rows {
            let (trust, row, mac, tags) = row.map_err(|e| db_err(&self.path, e))?;
            let facts = self
                .authentic(&trust, &row, &mac, packages)
                .map_err(|e| db_err(&self.path, e))?;
            if let Some(matched) = q.answer(&facts) {
                out.push(Hit {
                    facts,
                    tags: serde_json::from_str(&tags).unwrap_or_default(),
                    matched,
                });
            }
        }
        out.sort_by_key(|h| h.matched != Match::Verified);
        Ok(out)
    }
}
