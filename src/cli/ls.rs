//! `provost ls`: sources, repositories of a source, tags of a repository.

use super::{parse_ref, print_json};
use crate::oci::artifact::{tags_with_digests, CONCURRENCY};
use crate::oci::Store;
use crate::setup::Settings;
use crate::text::sanitize;
use color_eyre::eyre::{Result, WrapErr};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

#[derive(Serialize)]
struct SourceRow<'a> {
    name: &'a str,
    kind: &'a str,
    location: String,
}

#[derive(Serialize)]
struct TagRow {
    tag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
}

#[derive(Serialize)]
struct RepoTags {
    repository: String,
    tags: Vec<TagRow>,
}

/// Lists sources (no target), a source's repositories, or a repository's tags with digests.
/// `all` lists every repository of a source with its tags, and `digests` resolves every tag too.
pub async fn ls(
    settings: &Settings,
    target: Option<&str>,
    json: bool,
    all: bool,
    digests: bool,
) -> Result<()> {
    let Some(target) = target else {
        return list_sources(settings, json);
    };
    let trimmed = target.trim_end_matches('/');
    let is_source = !trimmed.contains('/')
        && (settings.source(trimmed).is_some()
            || trimmed.contains('.')
            || trimmed.contains(':')
            || trimmed == "localhost");
    if is_source {
        let source = settings.source_for(trimmed)?;
        let mut repos = source
            .store
            .list_repositories()
            .await
            .wrap_err_with(|| format!("listing the repositories of {}", source.name))?;
        // The audit chains are read with `provost audit`, not listed as images (as in the console).
        repos.retain(|r| *r != settings.audit_repository);
        if all {
            let store = &source.store;
            let listed: Vec<RepoTags> = stream::iter(repos)
                .map(|repo| async move {
                    let tags: Vec<TagRow> = if digests {
                        tags_with_digests(store.as_ref(), &repo)
                            .await?
                            .into_iter()
                            .map(|(tag, d)| TagRow {
                                tag,
                                digest: Some(d),
                            })
                            .collect()
                    } else {
                        store
                            .list_tags(&repo)
                            .await?
                            .into_iter()
                            .filter(|t| !crate::oci::is_evidence_tag(t))
                            .map(|tag| TagRow { tag, digest: None })
                            .collect()
                    };
                    Ok::<_, crate::oci::OciError>(RepoTags {
                        repository: repo,
                        tags,
                    })
                })
                .buffered(if digests {
                    CONCURRENCY / 4
                } else {
                    CONCURRENCY
                })
                .try_collect()
                .await
                .wrap_err_with(|| format!("listing every tag of {}", source.name))?;
            if json {
                return print_json(&listed);
            }
            for r in listed {
                for t in r.tags {
                    match t.digest {
                        Some(d) => {
                            crate::say!("{}:{}\t{d}", sanitize(&r.repository), sanitize(&t.tag))
                        }
                        None => crate::say!("{}:{}", sanitize(&r.repository), sanitize(&t.tag)),
                    }
                }
            }
            return Ok(());
        }
        if json {
            return print_json(&repos);
        }
        for r in repos {
            crate::say!("{}", sanitize(&r));
        }
        return Ok(());
    }
    let r = parse_ref(settings, target)?;
    let source = settings.source_for(&r.registry)?;
    let tags = tags_with_digests(source.store.as_ref(), &r.repository)
        .await
        .wrap_err_with(|| format!("listing the tags of {} in {}", r.repository, source.name))?;
    if json {
        let rows: Vec<TagRow> = tags
            .into_iter()
            .map(|(tag, digest)| TagRow {
                tag,
                digest: Some(digest),
            })
            .collect();
        return print_json(&rows);
    }
    let width = tags.iter().map(|(t, _)| t.len()).max().unwrap_or(3).max(3);
    crate::say!("{:width$}  DIGEST", "TAG");
    for (t, d) in tags {
        crate::say!("{:width$}  {d}", sanitize(&t));
    }
    Ok(())
}

fn list_sources(settings: &Settings, json: bool) -> Result<()> {
    let rows: Vec<SourceRow> = settings
        .sources
        .iter()
        .map(|s| SourceRow {
            name: &s.name,
            kind: s.store.kind(),
            location: s.store.location(),
        })
        .collect();
    if json {
        #[derive(Serialize)]
        struct All<'a> {
            sources: Vec<SourceRow<'a>>,
            environments: &'a [crate::config::Environment],
            ledger: Option<serde_json::Value>,
        }
        return print_json(&All {
            sources: rows,
            environments: &settings.environments,
            ledger: settings.chains().ok().map(|c| {
                serde_json::json!({"source": c.ledger.source, "repository": c.ledger.repository})
            }),
        });
    }
    crate::say!("SOURCES");
    for r in &rows {
        crate::say!("  {:<16} {:<9} {}", r.name, r.kind, r.location);
    }
    if !settings.environments.is_empty() {
        crate::say!("ENVIRONMENTS");
        for e in &settings.environments {
            crate::say!(
                "  {:<16} {:<12} {} {} tag {}",
                e.name,
                e.tier,
                e.source,
                e.repository,
                e.tag
            );
        }
    }
    if let Ok(c) = settings.chains() {
        crate::say!("LEDGER");
        crate::say!(
            "  {} (every approval, quarantine, promotion and rollback is linked here)",
            c.ledger.describe()
        );
    }
    Ok(())
}
