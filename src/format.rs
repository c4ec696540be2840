//! Human formats shared by every front end: thousands, durations, ages, sizes, clipped text.
//! The ground floor: it uses nothing else of ours.

use std::time::Duration;

/// 1234567 -> "1,234,567".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds as "0.4 s", "12.3 s", "4m 05s", "2h 03m".
pub fn seconds(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// Milliseconds in whole seconds, as limits are written: "45s", "4m 5s".
pub fn whole_seconds(ms: u64) -> String {
    let secs = ms / 1000;
    if secs >= 60 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// "1.85x", or "-" before anything ran.
pub fn speedup(value: Option<f64>) -> String {
    value.map_or("-".into(), |s| format!("{s:.2}x"))
}

/// "now", "3m", "2h", "5d": ages where columns are narrow.
pub fn compact_age(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    match mins {
        0 => "now".into(),
        1..=59 => format!("{mins}m"),
        60..=1439 => format!("{}h", mins / 60),
        _ => format!("{}d", mins / 1440),
    }
}

/// "just now", "12 min ago", "3 h ago", "40 d ago".
pub fn ago(ms: u64) -> String {
    let mins = ms / 60_000;
    match mins {
        0 => "just now".into(),
        1..=59 => format!("{mins} min ago"),
        60..=1439 => format!("{} h ago", mins / 60),
        _ => format!("{} d ago", mins / 1440),
    }
}

/// "30d", "12h", "90m", "2w", "45s": ages as people write them.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not an age (like 30d, 12h, 90m or 2w)");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(n * seconds))
}

/// "1.2 KB", "830 B": sizes for summaries.
/// Lowercase hex, two digits a byte (digests, tokens).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut: for one-line displays.
pub fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
        assert_eq!(seconds(450), "0.5 s");
        assert_eq!(seconds(12_340), "12.3 s");
        assert_eq!(seconds(245_000), "4m 05s");
        assert_eq!(seconds(7_380_000), "2h 03m");
        assert_eq!(whole_seconds(45_900), "45s");
        assert_eq!(whole_seconds(245_000), "4m 5s");
        assert_eq!(human_size(830), "830 B");
        assert_eq!(human_size(1229), "1.2 KB");
    }

    #[test]
    fn ages_both_ways() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(90 * 60)));
        for bad in ["", "30", "d", "30 days", "-3d", "3y"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
        assert_eq!(compact_age(0), "now");
        assert_eq!(compact_age(3 * 3_600_000), "3h");
        assert_eq!(ago(12 * 60_000), "12 min ago");
        assert_eq!(ago(3 * 86_400_000), "3 d ago");
    }

    #[test]
    fn clipping_keeps_characters_whole() {
        assert_eq!(clip_chars("short", 10), "short");
        assert_eq!(clip_chars("ééééé", 2), "éé…");
    }
}
