//! A filterable, selectable list view: the state every list pane shares.

/// Selection and filter of one list. `selected` indexes the *filtered* items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    pub selected: usize,
    pub filter: String,
}

impl ListView {
    /// Indices of the items whose text contains the filter (case-insensitive).
    pub fn visible<'a, I>(&self, texts: I) -> Vec<usize>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let needle = self.filter.to_lowercase();
        texts
            .into_iter()
            .enumerate()
            .filter(|(_, t)| needle.is_empty() || t.to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect()
    }

    /// Moves the selection by `delta`, clamped to `len` visible items.
    pub fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        let next = self.selected as isize + delta;
        self.selected = next.clamp(0, len as isize - 1) as usize;
    }

    /// Keeps the selection inside `len` items.
    pub fn clamp(&mut self, len: usize) {
        if self.selected >= len {
            self.selected = len.saturating_sub(1);
        }
    }
}

/// The first visible row when `selected` must show in `height` rows: the same rule for drawing
/// and for mouse hit-testing, so a click lands on the row it was drawn on.
pub fn window_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_steps() {
        let mut v = ListView {
            selected: 0,
            filter: "API".into(),
        };
        let items = ["acme/api", "acme/web", "other/api-gw"];
        assert_eq!(v.visible(items.iter().copied()), vec![0, 2]);
        v.step(5, 2);
        assert_eq!(v.selected, 1);
        v.step(-9, 2);
        assert_eq!(v.selected, 0);
        assert_eq!(window_offset(10, 5), 6);
        assert_eq!(window_offset(2, 5), 0);
    }
}
