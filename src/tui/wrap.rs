//! Word wrapping by display width: the one place that decides how a logical line becomes
//! screen rows, so row counts and drawn rows always agree.

use unicode_width::UnicodeWidthChar;

/// Splits `line` into rows of at most `width` columns, breaking after spaces where it can and
/// inside a word only when a word is wider than a row. Returns byte ranges into `line`.
/// An empty line is one empty row.
pub fn wrap_ranges(line: &str, width: usize) -> Vec<(usize, usize)> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row_start = 0;
    let mut row_width = 0;
    // Where the row may break: just after the last space seen in it.
    let mut last_break: Option<(usize, usize)> = None;
    for (i, c) in line.char_indices() {
        let w = c.width().unwrap_or(0);
        if row_width + w > width && row_width > 0 {
            match last_break {
                Some((at, width_at)) if at > row_start => {
                    rows.push((row_start, at));
                    row_start = at;
                    row_width -= width_at;
                }
                _ => {
                    rows.push((row_start, i));
                    row_start = i;
                    row_width = 0;
                }
            }
            last_break = None;
        }
        row_width += w;
        if c == ' ' {
            last_break = Some((i + c.len_utf8(), row_width));
        }
    }
    rows.push((row_start, line.len()));
    rows
}

/// How many rows `line` takes at `width`.
pub fn row_count(line: &str, width: usize) -> usize {
    // The common case, a short line, needs no allocation.
    if line.len() <= width {
        return 1;
    }
    wrap_ranges(line, width).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(line: &str, width: usize) -> Vec<&str> {
        wrap_ranges(line, width)
            .into_iter()
            .map(|(a, b)| &line[a..b])
            .collect()
    }

    #[test]
    fn breaks_after_spaces() {
        assert_eq!(rows("the quick brown fox", 10), ["the quick ", "brown fox"]);
        assert_eq!(row_count("the quick brown fox", 10), 2);
    }

    #[test]
    fn splits_words_longer_than_a_row() {
        assert_eq!(rows("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(rows("ab abcdefgh", 4), ["ab ", "abcd", "efgh"]);
    }

    #[test]
    fn empty_and_exact_lines() {
        assert_eq!(rows("", 5), [""]);
        assert_eq!(rows("abcde", 5), ["abcde"]);
        assert_eq!(row_count("", 5), 1);
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(rows("日本語テキスト", 6), ["日本語", "テキス", "ト"]);
        assert_eq!(row_count("日本語テキスト", 6), 3);
    }

    #[test]
    fn every_byte_lands_in_exactly_one_row() {
        let line = "a bb ccc dddd eeeee ffffff ggggggg";
        for width in 1..12 {
            let r = wrap_ranges(line, width);
            assert_eq!(r[0].0, 0);
            assert_eq!(r.last().unwrap().1, line.len());
            for pair in r.windows(2) {
                assert_eq!(pair[0].1, pair[1].0);
            }
        }
    }
}
