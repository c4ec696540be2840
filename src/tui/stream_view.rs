//! How one agent's streamed text is shown: which rows are visible and where the reader is.
//!
//! The text itself lives once, in the session state (the step's output). Here we keep only an
//! index of where its lines start, updated from the newly appended bytes, and the row count of
//! each complete line at the current width. Only the rows on screen are ever wrapped, a resize
//! just drops the row counts, and text without newlines shows as it arrives (it is the last,
//! growing line).

use std::ops::Range;

use super::wrap::{row_count, wrap_ranges};

#[derive(Debug, Clone)]
pub struct StreamView {
    /// Byte offset where each logical line starts.
    line_starts: Vec<usize>,
    indexed_len: usize,
    attempt: u64,
    /// Rows of each complete line at `cache_width`; the last line is still growing, never cached.
    heights: Vec<usize>,
    cache_width: usize,
    /// Stick to the end as text arrives.
    follow: bool,
    /// When not following: the first row on screen, as (line, row within that line).
    top: (usize, usize),
}

impl Default for StreamView {
    /// Empty text, following the end.
    fn default() -> Self {
        StreamView {
            line_starts: vec![0],
            indexed_len: 0,
            attempt: 0,
            heights: Vec::new(),
            cache_width: 0,
            follow: true,
            top: (0, 0),
        }
    }
}

impl StreamView {
    pub fn new() -> Self {
        StreamView::default()
    }

    pub fn is_following(&self) -> bool {
        self.follow
    }

    /// Catches up with the text: indexes lines in the part appended since last time.
    /// `generation` changes whenever the text was rewritten rather than appended to (a new
    /// attempt, a retried call).
    pub fn sync(&mut self, text: &str, generation: u64) {
        if generation != self.attempt || text.len() < self.indexed_len {
            // Rewritten text is indexed from the start.
            *self = StreamView {
                follow: self.follow,
                ..StreamView::new()
            };
            self.attempt = generation;
        }
        let new = &text.as_bytes()[self.indexed_len..];
        let base = self.indexed_len;
        self.line_starts.extend(
            new.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| base + i + 1),
        );
        self.indexed_len = text.len();
    }

    fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    fn line<'t>(&self, text: &'t str, i: usize) -> &'t str {
        let start = self.line_starts[i];
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(text.len(), |next| next - 1);
        &text[start..end]
    }

    fn height(&mut self, text: &str, i: usize, width: usize) -> usize {
        if width != self.cache_width {
            self.heights.clear();
            self.cache_width = width;
        }
        let last = self.line_count() - 1;
        if i < self.heights.len() {
            return self.heights[i];
        }
        let h = row_count(self.line(text, i), width);
        if i < last && i == self.heights.len() {
            self.heights.push(h);
        }
        h
    }

    /// The rows to draw in a `width` x `height` area.
    pub fn visible_rows<'t>(&mut self, text: &'t str, width: usize, height: usize) -> Vec<&'t str> {
        self.visible_ranges(text, width, height)
            .into_iter()
            .map(|row| &text[row])
            .collect()
    }

    /// The rows to draw in a `width` x `height` area, as byte ranges of `text`: the dashboard
    /// picks them while laying out and slices the text when it draws.
    pub fn visible_ranges(&mut self, text: &str, width: usize, height: usize) -> Vec<Range<usize>> {
        let width = width.max(1);
        if height == 0 {
            return Vec::new();
        }
        let rows_of = |i: usize| {
            let start = self.line_starts[i];
            let line = self.line(text, i);
            wrap_ranges(line, width)
                .into_iter()
                .map(move |(a, b)| start + a..start + b)
        };
        if self.follow {
            let mut rows = Vec::with_capacity(height);
            for i in (0..self.line_count()).rev() {
                for row in rows_of(i).rev() {
                    rows.push(row);
                    if rows.len() == height {
                        rows.reverse();
                        return rows;
                    }
                }
            }
            rows.reverse();
            return rows;
        }
        let mut rows = Vec::with_capacity(height);
        let (mut i, mut skip) = self.top;
        while i < self.line_count() && rows.len() < height {
            for row in rows_of(i).skip(skip) {
                rows.push(row);
                if rows.len() == height {
                    break;
                }
            }
            skip = 0;
            i += 1;
        }
        rows
    }

    /// The (line, row) of the first row on screen when showing the end.
    fn bottom_anchor(&mut self, text: &str, width: usize, height: usize) -> (usize, usize) {
        let mut remaining = height;
        for i in (0..self.line_count()).rev() {
            let h = self.height(text, i, width);
            if h >= remaining {
                return (i, h - remaining);
            }
            remaining -= h;
        }
        (0, 0)
    }

    /// Scrolling up stops following the end.
    pub fn scroll_up(&mut self, text: &str, width: usize, height: usize, rows: usize) {
        let width = width.max(1);
        if self.follow {
            self.top = self.bottom_anchor(text, width, height);
            self.follow = false;
        }
        let (mut line, mut row) = self.top;
        let mut left = rows;
        while left > 0 {
            if row >= left {
                row -= left;
                left = 0;
            } else if line == 0 {
                row = 0;
                left = 0;
            } else {
                left -= row + 1;
                line -= 1;
                row = self.height(text, line, width) - 1;
            }
        }
        self.top = (line, row);
    }

    /// Scrolling down to the end follows again.
    pub fn scroll_down(&mut self, text: &str, width: usize, height: usize, rows: usize) {
        if self.follow {
            return;
        }
        let width = width.max(1);
        let bottom = self.bottom_anchor(text, width, height);
        let (mut line, mut row) = self.top;
        for _ in 0..rows {
            if (line, row) >= bottom {
                break;
            }
            if row + 1 < self.height(text, line, width) {
                row += 1;
            } else {
                line += 1;
                row = 0;
            }
        }
        self.top = (line, row);
        if self.top >= bottom {
            self.follow = true;
        }
    }

    pub fn scroll_to_top(&mut self) {
        self.follow = false;
        self.top = (0, 0);
    }

    pub fn follow_end(&mut self) {
        self.follow = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(text: &str) -> StreamView {
        let mut v = StreamView::new();
        v.sync(text, 1);
        v
    }

    #[test]
    fn follows_the_end_and_shows_text_without_newlines_as_it_arrives() {
        let mut text = String::from("partial");
        let mut v = view(&text);
        assert_eq!(v.visible_rows(&text, 20, 3), ["partial"]);
        text.push_str(" more");
        v.sync(&text, 1);
        assert_eq!(v.visible_rows(&text, 20, 3), ["partial more"]);
        text.push_str("\nl2\nl3\nl4");
        v.sync(&text, 1);
        assert_eq!(v.visible_rows(&text, 20, 3), ["l2", "l3", "l4"]);
    }

    #[test]
    fn wraps_at_render_time_and_rewraps_on_resize() {
        let text = "aaaa bbbb cccc\nend";
        let mut v = view(text);
        assert_eq!(
            v.visible_rows(text, 5, 10),
            ["aaaa ", "bbbb ", "cccc", "end"]
        );
        assert_eq!(v.visible_rows(text, 10, 10), ["aaaa bbbb ", "cccc", "end"]);
        assert_eq!(v.visible_rows(text, 20, 10), ["aaaa bbbb cccc", "end"]);
    }

    #[test]
    fn scrolling_up_stops_following_and_holds_still_while_text_arrives() {
        let mut text: String = (0..10).map(|i| format!("line {i}\n")).collect();
        text.pop();
        let mut v = view(&text);
        v.scroll_up(&text, 20, 3, 2);
        assert!(!v.is_following());
        assert_eq!(v.visible_rows(&text, 20, 3), ["line 5", "line 6", "line 7"]);
        text.push_str("\nline 10\nline 11");
        v.sync(&text, 1);
        assert_eq!(v.visible_rows(&text, 20, 3), ["line 5", "line 6", "line 7"]);
        v.scroll_down(&text, 20, 3, 100);
        assert!(v.is_following());
        assert_eq!(
            v.visible_rows(&text, 20, 3),
            ["line 9", "line 10", "line 11"]
        );
    }

    #[test]
    fn scrolling_moves_through_wrapped_rows() {
        let text = "aaaa bbbb cccc\nx\ny";
        let mut v = view(text);
        v.scroll_up(text, 5, 2, 1);
        assert_eq!(v.visible_rows(text, 5, 2), ["cccc", "x"]);
        v.scroll_up(text, 5, 2, 2);
        assert_eq!(v.visible_rows(text, 5, 2), ["aaaa ", "bbbb "]);
        v.scroll_up(text, 5, 2, 50);
        assert_eq!(v.visible_rows(text, 5, 2), ["aaaa ", "bbbb "]);
        v.scroll_to_top();
        v.scroll_down(text, 5, 2, 1);
        assert_eq!(v.visible_rows(text, 5, 2), ["bbbb ", "cccc"]);
    }

    #[test]
    fn a_new_attempt_starts_over() {
        let mut v = view("old text\nmore");
        let text = "new";
        v.sync(text, 2);
        assert_eq!(v.visible_rows(text, 20, 5), ["new"]);
    }
}
