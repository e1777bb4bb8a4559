//! The jobs a pane asks for when what it shows changes: repositories of the active source,
//! tags of the active repository, one artifact's detail. Each bumps its pane's generation, so
//! an answer for what was shown before is dropped.

use super::app::{App, Job, Slot};

impl App {
    pub(super) fn load_repos(&mut self) -> Vec<Job> {
        let Some(source) = self.active_source() else {
            return vec![];
        };
        let generation = self.next_generation(0);
        self.repos = Slot::Loading;
        vec![
            Job::Repos {
                generation,
                source,
                repository_glob: self.active_environment().map(|e| e.repository.clone()),
            },
            Job::Drift,
        ]
    }

    pub(super) fn load_tags(&mut self) -> Vec<Job> {
        let (Some(source), Some(repository)) = (self.active_source(), self.active_repo.clone())
        else {
            return vec![];
        };
        let generation = self.next_generation(1);
        self.tags = Slot::Loading;
        vec![Job::Tags {
            generation,
            source,
            repository,
            tag_glob: self.active_environment().map(|e| e.tag.clone()),
        }]
    }

    pub(super) fn load_detail(&mut self, reference: String) -> Vec<Job> {
        let (Some(source), Some(repository)) = (self.active_source(), self.active_repo.clone())
        else {
            return vec![];
        };
        let known_tags = match &self.tags {
            Slot::Ready(rows) if rows.iter().all(|r| matches!(r.summary, Slot::Ready(_))) => rows
                .iter()
                .filter_map(|r| r.summary.ready().map(|s| (r.tag.clone(), s.digest.clone())))
                .collect(),
            _ => vec![],
        };
        let generation = self.next_generation(2);
        self.detail = Slot::Loading;
        vec![Job::Detail {
            generation,
            source,
            repository,
            reference,
            known_tags,
        }]
    }
}
