//! Where each pane sits for a terminal size; used by drawing and by mouse hit-testing.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// The panes of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Sources,
    Repositories,
    Tags,
    Detail,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Sources, Pane::Repositories, Pane::Tags, Pane::Detail];

    /// The title shown on the pane's border.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Sources => "Sources",
            Pane::Repositories => "Repositories",
            Pane::Tags => "Tags",
            Pane::Detail => "Artifact",
        }
    }
}

/// Rectangles of the title bar, the four panes and the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    pub sources: Rect,
    pub repositories: Rect,
    pub tags: Rect,
    pub detail: Rect,
    pub status: Rect,
}

impl Areas {
    /// Lays out a screen of `area`, with `source_rows` items in the sources list.
    pub fn new(area: Rect, source_rows: usize) -> Areas {
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(1),
                Constraint::Min(4),
                Constraint::Length(1),
            ])
            .split(area);
        let left_width = (area.width / 3).clamp(22, 36);
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Length(left_width), Constraint::Min(20)])
            .split(rows[1]);
        let body_h = rows[1].height;
        let src_h = ((source_rows as u16) + 2)
            .min(body_h / 2)
            .max(3.min(body_h));
        let left = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Length(src_h), Constraint::Min(0)])
            .split(cols[0]);
        let tags_h = (body_h * 2 / 5).max(5.min(body_h));
        let right = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Length(tags_h), Constraint::Min(0)])
            .split(cols[1]);
        Areas {
            title: rows[0],
            sources: left[0],
            repositories: left[1],
            tags: right[0],
            detail: right[1],
            status: rows[2],
        }
    }

    /// The pane's rectangle.
    pub fn of(&self, pane: Pane) -> Rect {
        match pane {
            Pane::Sources => self.sources,
            Pane::Repositories => self.repositories,
            Pane::Tags => self.tags,
            Pane::Detail => self.detail,
        }
    }

    /// The pane under a screen position.
    pub fn hit(&self, column: u16, row: u16) -> Option<Pane> {
        Pane::ALL.into_iter().find(|p| {
            let r = self.of(*p);
            column >= r.x && column < r.x + r.width && row >= r.y && row < r.y + r.height
        })
    }
}

/// Rows inside a bordered list pane (minus a header row when the pane has one).
pub fn inner_rows(r: Rect, header: bool) -> usize {
    (r.height.saturating_sub(2 + header as u16)) as usize
}
pub use super::list::window_offset;
