//! The console's command line (`:`, as in k9s, with history): `:find key=value …` asks the
//! triage index, `:digest sha256:…` finds a digest anywhere, `:env NAME` lists what an
//! environment holds across repositories with verdicts and what its runtime runs. Results
//! open the artifact.

use super::action::Action;
use super::app::{App, Job, Slot};
use super::layout::Pane;
use super::list::ListView;
use super::writes::Writer;
use crate::policy::Decision;

/// History entries kept.
const HISTORY: usize = 50;

/// The line being typed, and what was typed before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub open: bool,
    pub text: String,
    pub history: Vec<String>,
    /// Where Up/Down are in the history.
    pub at: Option<usize>,
}

/// A command, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `key=value` words (checked again by the job: the query is built there).
    Find(String),
    Digest(String),
    Env(String),
}

/// Parses a command line (without the `:`).
pub fn parse(text: &str) -> Result<Request, String> {
    let text = text.trim();
    let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    match verb {
        "find" | "f" => {
            crate::index::Query::parse_words(rest)?;
            Ok(Request::Find(rest.to_string()))
        }
        "digest" | "d" => {
            let d = rest.trim();
            let hex = d.strip_prefix("sha256:").unwrap_or(d);
            if hex.len() < 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(
                    "`:digest sha256:…` takes a digest (or its first 8 hex digits or more)".into(),
                );
            }
            Ok(Request::Digest(format!(
                "sha256:{}",
                hex.to_ascii_lowercase()
            )))
        }
        "env" | "e" if !rest.is_empty() => Ok(Request::Env(rest.to_string())),
        "env" | "e" => Err("`:env NAME` names an environment".into()),
        "" => Err("commands: :find key=value…, :digest sha256:…, :env NAME".into()),
        other => Err(format!(
            "unknown command {:?} (:find, :digest, :env)",
            crate::text::sanitize(other)
        )),
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub source: String,
    pub repository: String,
    pub digest: String,
    pub tags: Vec<String>,
    /// False when it matched only on unverified claims.
    pub verified: bool,
    /// Where it is, runs, or why it matched, in words.
    pub note: String,
    pub verdicts: Vec<(String, Decision)>,
}

/// The results of a command, over the tags and detail panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsView {
    pub title: String,
    /// A `:find`: rows matched verified facts or only claims, and say which.
    pub find: bool,
    pub rows: Slot<Vec<ResultRow>>,
    pub cursor: usize,
    /// Rows selected (with `*`) for a quarantine of them all.
    pub selected: std::collections::BTreeSet<usize>,
    /// What asked for them (asked again after a write).
    pub request: Request,
    /// How far indexing has got, while the rows load.
    pub progress: Option<String>,
    /// Loading again after a write (the cursor is kept).
    pub again: bool,
}

impl App {
    pub(super) fn command_open(&mut self) {
        self.command.open = true;
        self.command.text.clear();
        self.command.at = None;
    }

    pub(super) fn command_input(&mut self, c: char) {
        if self.command.text.chars().count() < 400 {
            self.command.text.push(c);
        }
    }

    pub(super) fn command_history(&mut self, up: bool) {
        let n = self.command.history.len();
        if n == 0 {
            return;
        }
        let at = match (self.command.at, up) {
            (None, true) => n - 1,
            (None, false) => return,
            (Some(i), true) => i.saturating_sub(1),
            (Some(i), false) if i + 1 >= n => {
                self.command.at = None;
                self.command.text.clear();
                return;
            }
            (Some(i), false) => i + 1,
        };
        self.command.at = Some(at);
        self.command.text = self.command.history[at].clone();
    }

    pub(super) fn command_submit(&mut self) -> Vec<Job> {
        self.command.open = false;
        let text = std::mem::take(&mut self.command.text);
        if text.trim().is_empty() {
            return vec![];
        }
        self.command.history.retain(|h| *h != text);
        self.command.history.push(text.clone());
        if self.command.history.len() > HISTORY {
            self.command.history.remove(0);
        }
        match parse(&text) {
            Err(e) => {
                self.toast(true, e);
                vec![]
            }
            Ok(r) => {
                self.compare = None;
                self.results = Some(ResultsView {
                    find: matches!(r, Request::Find(_)),
                    title: format!(":{}", text.trim()),
                    rows: Slot::Loading,
                    cursor: 0,
                    selected: Default::default(),
                    request: r.clone(),
                    progress: None,
                    again: false,
                });
                vec![Job::Command(r)]
            }
        }
    }

    pub(super) fn results_loaded(&mut self, r: Result<Vec<ResultRow>, String>) {
        if let Some(v) = &mut self.results {
            v.rows = r.into();
            v.progress = None;
            // Asked again (after a write): the cursor stays where it was.
            let n = v.rows.ready().map(Vec::len).unwrap_or(0);
            if !std::mem::take(&mut v.again) || v.cursor >= n {
                v.cursor = 0;
            }
        }
    }

    pub(super) fn results_progress(&mut self, p: crate::index::fill::Progress) {
        if let Some(v) = &mut self.results {
            v.progress = Some(format!(
                "indexing {}/{}: {} of {} new digest(s)",
                p.source, p.repository, p.done, p.total
            ));
        }
    }

    /// `*` on a result: selects it for a quarantine (or unselects it).
    pub(super) fn results_select(&mut self) {
        if let Some(v) = &mut self.results {
            if v.rows.ready().is_some_and(|r| v.cursor < r.len()) && !v.selected.remove(&v.cursor) {
                v.selected.insert(v.cursor);
            }
        }
    }

    /// `Q` on the results: one quarantine dialog for the selected rows (else the row under
    /// the cursor), one signed record per digest.
    pub(super) fn results_quarantine(&mut self) -> Vec<Job> {
        let Some(v) = &self.results else {
            return vec![];
        };
        let Some(rows) = v.rows.ready() else {
            return vec![];
        };
        let picked: Vec<&ResultRow> = if v.selected.is_empty() {
            rows.get(v.cursor).into_iter().collect()
        } else {
            v.selected.iter().filter_map(|&i| rows.get(i)).collect()
        };
        let mut targets: Vec<crate::tui::modal::Target> = vec![];
        for r in picked {
            let t = crate::tui::modal::Target {
                source: r.source.clone(),
                repository: r.repository.clone(),
                digest: r.digest.clone(),
            };
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        if targets.is_empty() {
            return vec![];
        }
        let first = targets.remove(0);
        let environments: Vec<String> = self
            .environments
            .iter()
            .filter(|e| e.source == first.source)
            .map(|e| e.name.clone())
            .collect();
        let jobs = self.open_compose(
            (first.source, first.repository, first.digest),
            crate::release::act::Kind::Quarantine { lift: false },
            environments,
        );
        if let Some(crate::tui::modal::Modal::Compose { request, .. }) = &mut self.modal {
            request.also = targets;
        }
        jobs
    }

    /// Asks the open results' command again (their verdicts after a write).
    pub(super) fn results_reload(&mut self) -> Vec<Job> {
        match &mut self.results {
            Some(v) => {
                // Today's verdicts change with the write: the old rows are not shown as current.
                v.progress = None;
                v.rows = Slot::Loading;
                v.selected.clear();
                v.again = true;
                vec![Job::Command(v.request.clone())]
            }
            None => vec![],
        }
    }

    pub(super) fn results_move(&mut self, by: isize) {
        if let Some(v) = &mut self.results {
            let n = v.rows.ready().map(Vec::len).unwrap_or(0);
            if n > 0 {
                v.cursor = (v.cursor as isize + by).clamp(0, n as isize - 1) as usize;
            }
        }
    }

    /// ⏎ on a result: the artifact, in its source and repository.
    pub(super) fn results_open(&mut self) -> Vec<Job> {
        let Some(row) = self
            .results
            .as_ref()
            .and_then(|v| v.rows.ready().and_then(|r| r.get(v.cursor)).cloned())
        else {
            return vec![];
        };
        let Some(item) = self.items.iter().position(
            |i| matches!(i, super::app::SourceItem::Source { name, .. } if *name == row.source),
        ) else {
            self.toast(true, format!("no source {}", row.source));
            return vec![];
        };
        self.results = None;
        self.active_item = Some(item);
        self.sources_view.selected = self
            .visible_sources()
            .iter()
            .position(|&i| i == item)
            .unwrap_or(0);
        self.active_repo = Some(row.repository.clone());
        self.repos_view = ListView::default();
        self.tags_view = ListView::default();
        self.focus = Pane::Detail;
        self.detail_view = Default::default();
        let mut jobs = self.load_repos();
        jobs.extend(self.load_tags());
        jobs.extend(self.load_detail(row.digest));
        jobs
    }
}

fn verdict_list(vs: &[crate::policy::Verdict]) -> Vec<(String, Decision)> {
    vs.iter()
        .map(|v| (v.environment.clone(), v.decision))
        .collect()
}

impl Writer {
    /// Runs a command line's request in the background; the rows arrive as an action.
    pub fn command(&self, r: Request) {
        let w = self.clone();
        tokio::spawn(async move {
            let limit = w.settings.timeout * 10;
            let result = tokio::time::timeout(limit, w.request(r))
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {}s", limit.as_secs())));
            let _ = w.tx.send(Action::ResultsLoaded(result));
        });
    }

    async fn request(&self, r: Request) -> Result<Vec<ResultRow>, String> {
        let settings = &self.settings;
        match r {
            Request::Find(words) => {
                let q = crate::index::Query::parse_words(&words)?;
                let tx = self.tx.clone();
                let progress = move |p: crate::index::fill::Progress| {
                    let _ = tx.send(Action::ResultsProgress(p));
                };
                let report = crate::triage::find(settings, &q, true, &progress).await?;
                Ok(report
                    .hits
                    .into_iter()
                    .map(|h| ResultRow {
                        note: if h.claimed_only.is_empty() {
                            let mut note = format!(
                                "now in {} · before in {}",
                                dash(&h.holds_now.join(", ")),
                                dash(&h.held_before.join(", "))
                            );
                            if !h.unknown_places.is_empty() {
                                note.push_str(&format!(
                                    " · could not tell: {}",
                                    h.unknown_places.join("; ")
                                ));
                            }
                            note
                        } else {
                            format!(
                                "unverified: only a claim says {}",
                                h.claimed_only.join(", ")
                            )
                        },
                        verified: h.matched == crate::index::Match::Verified,
                        verdicts: verdict_list(&h.verdicts),
                        source: h.source,
                        repository: h.repository,
                        digest: h.digest,
                        tags: h.tags,
                    })
                    .collect())
            }
            Request::Digest(d) => {
                let mut index = crate::index::fill::open(settings)?;
                let srcs: Vec<&crate::setup::NamedSource> = settings.sources.iter().collect();
                crate::triage::fill_sources(settings, &srcs, &mut index, &|_| {}).await?;
                let rows = index.by_digest(&d).map_err(|e| e.to_string())?;
                if rows.is_empty() {
                    return Err(format!("no tagged digest {d}… in any source"));
                }
                Ok(rows
                    .into_iter()
                    .map(|p| ResultRow {
                        source: p.source,
                        repository: p.repository,
                        digest: p.digest,
                        tags: p.tags,
                        verified: true,
                        note: String::new(),
                        verdicts: vec![],
                    })
                    .collect())
            }
            Request::Env(name) => self.environment_rows(&name).await,
        }
    }

    /// Everything `name` holds across its repositories, judged, with what its runtime runs.
    async fn environment_rows(&self, name: &str) -> Result<Vec<ResultRow>, String> {
        use crate::oci::Store;
        let env = self.settings.environment(name)?.clone();
        let (src, gate) = self.parts(&env.source)?;
        let tag = env
            .moving_tag()
            .ok_or_else(|| format!("{} has no single tag", env.name))?
            .to_string();
        let running = if self.settings.runtimes.iter().any(|(e, _)| *e == env.name) {
            match crate::triage::runtime::runtime(&self.settings, &env, None).await {
                Ok(r) => Some(Ok(r)),
                Err(e) => Some(Err(e)),
            }
        } else {
            None
        };
        let repos = src
            .store
            .list_repositories()
            .await
            .map_err(|e| format!("listing {}: {e}", src.name))?;
        let mut out = vec![];
        for repo in repos
            .into_iter()
            .filter(|r| env.tracks_repository(r) && *r != self.settings.audit_repository)
        {
            let Ok(digest) = src.store.resolve(&repo, &tag).await else {
                continue;
            };
            let j = gate
                .judge(
                    src.store.as_ref(),
                    &repo,
                    &digest,
                    std::slice::from_ref(&env),
                )
                .await;
            let note = match &running {
                None => "no runtime configured".to_string(),
                Some(Err(e)) => format!("runtime: {e}"),
                Some(Ok(r)) => {
                    let here: Vec<&crate::triage::runtime::Running> = r
                        .workloads
                        .iter()
                        .filter(|w| w.workload.repository.as_deref() == Some(repo.as_str()))
                        .collect();
                    if here.is_empty() {
                        "not running".into()
                    } else {
                        here.iter()
                            .map(|w| format!("{}: {}", w.workload.name, w.standing.words()))
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                }
            };
            out.push(ResultRow {
                source: src.name.clone(),
                repository: repo,
                digest,
                tags: vec![tag.clone()],
                verified: true,
                note,
                verdicts: verdict_list(&j.verdicts),
            });
        }
        Ok(out)
    }
}

fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse("find builder=https://x/* commit=abcdef1"),
            Ok(Request::Find("builder=https://x/* commit=abcdef1".into()))
        );
        assert!(parse("find builder").is_err());
        assert!(parse("find nope=1").is_err());
        assert_eq!(parse("env prod"), Ok(Request::Env("prod".into())));
        assert_eq!(
            parse("digest ABCDEF0123"),
            Ok(Request::Digest("sha256:abcdef0123".into()))
        );
        assert!(parse("digest xyz").is_err());
        assert!(parse("frobnicate").is_err());
    }
}
