//! When a schedule fires: at the times of a cron line in a time zone, every fixed interval, once
//! at a moment, when files land in a folder, or when its webhook is called.

use std::path::PathBuf;
use std::str::FromStr as _;

use chrono::{DateTime, Local, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A five-field cron line (minute hour day-of-month month day-of-week), in `tz` (an IANA
    /// name such as "Europe/Madrid") or, with none, in the server's local time.
    Cron {
        expr: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tz: Option<String>,
    },
    /// Every `every_secs` seconds, counted from when the schedule was added.
    Every { every_secs: u64 },
    /// Once.
    At { at: DateTime<Utc> },
    /// Files created or changed in `dir` whose name matches `glob` (every file with none).
    Watch {
        dir: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        glob: Option<String>,
    },
    /// `POST /hooks/NAME` on the server, signed with the schedule's secret.
    Webhook,
}

/// The shortest interval: a schedule firing more often than this is a mistake.
pub const SHORTEST_EVERY_SECS: u64 = 10;

impl Trigger {
    /// Whether it fires at times it can compute (and so can miss runs while the server is down).
    pub fn is_timed(&self) -> bool {
        match self {
            Trigger::Cron { .. } | Trigger::Every { .. } | Trigger::At { .. } => true,
            Trigger::Watch { .. } | Trigger::Webhook => false,
        }
    }

    /// Checks what can be checked before the schedule is kept: the cron line, the time zone,
    /// the interval and the glob.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Trigger::Cron { expr, tz } => {
                parse_cron(expr)?;
                if let Some(tz) = tz {
                    parse_tz(tz)?;
                }
                Ok(())
            }
            Trigger::Every { every_secs } if *every_secs < SHORTEST_EVERY_SECS => {
                Err(format!("--every must be at least {SHORTEST_EVERY_SECS} s"))
            }
            Trigger::Every { .. } | Trigger::At { .. } | Trigger::Webhook => Ok(()),
            Trigger::Watch { glob, .. } => match glob {
                Some(glob) => glob::Pattern::new(glob)
                    .map(|_| ())
                    .map_err(|e| format!("bad --glob {glob:?}: {e}")),
                None => Ok(()),
            },
        }
    }

    /// The first time strictly after `after` that the schedule fires; None when it never fires
    /// again or fires on events, not times. `anchor` is when the schedule was added (intervals
    /// count from it).
    pub fn next_after(&self, anchor: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Trigger::Cron { expr, tz } => {
                let cron = parse_cron(expr).ok()?;
                match tz {
                    Some(name) => next_cron(&cron, &parse_tz(name).ok()?, after),
                    None => next_cron(&cron, &Local, after),
                }
            }
            Trigger::Every { every_secs } => {
                let every = i64::try_from(*every_secs).ok()?.max(1) * 1000;
                let from = anchor.timestamp_millis();
                let now = after.timestamp_millis();
                let periods = if now < from {
                    0
                } else {
                    (now - from) / every + 1
                };
                DateTime::from_timestamp_millis(from + periods * every)
            }
            Trigger::At { at } => (*at > after).then_some(*at),
            Trigger::Watch { .. } | Trigger::Webhook => None,
        }
    }

    /// In words, for lists: "cron 0 9 * * 1-5 (Europe/Madrid)", "every 30m", "at 2026-12-01
    /// 09:00 UTC", "watch inbox/*.csv", "webhook".
    pub fn describe(&self) -> String {
        match self {
            Trigger::Cron { expr, tz: Some(tz) } => format!("cron {expr} ({tz})"),
            Trigger::Cron { expr, tz: None } => format!("cron {expr}"),
            Trigger::Every { every_secs } => format!(
                "every {}",
                humantime::format_duration(std::time::Duration::from_secs(*every_secs))
            ),
            Trigger::At { at } => format!("at {}", at.format("%Y-%m-%d %H:%M UTC")),
            Trigger::Watch { dir, glob } => match glob {
                Some(glob) => format!("watch {}/{glob}", dir.display()),
                None => format!("watch {}", dir.display()),
            },
            Trigger::Webhook => "webhook".into(),
        }
    }

    /// Whether a file's name (not its folder) matches the watch's glob.
    pub fn watches_name(&self, name: &str) -> bool {
        match self {
            Trigger::Watch {
                glob: Some(glob), ..
            } => glob::Pattern::new(glob).is_ok_and(|p| p.matches(name)),
            Trigger::Watch { glob: None, .. } => true,
            Trigger::Cron { .. }
            | Trigger::Every { .. }
            | Trigger::At { .. }
            | Trigger::Webhook => false,
        }
    }
}

fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    if expr.split_whitespace().count() != 5 {
        return Err(format!(
            "cron {expr:?}: five fields are needed (minute hour day-of-month month day-of-week)"
        ));
    }
    croner::Cron::from_str(expr).map_err(|e| format!("cron {expr:?}: {e}"))
}

fn parse_tz(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("unknown time zone {name:?}: use an IANA name such as Europe/Madrid or UTC")
    })
}

/// The next occurrence in a zone. A local time the clocks skip runs once, right after the jump;
/// a local time that happens twice (clocks going back) runs once, the first time (croner
/// follows the Open Cron Pattern Specification here, and the tests check real transitions).
fn next_cron<Z: TimeZone>(
    cron: &croner::Cron,
    zone: &Z,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let local = after.with_timezone(zone);
    cron.find_next_occurrence(&local, false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .with_timezone(&Utc)
    }

    fn cron(expr: &str, tz: &str) -> Trigger {
        Trigger::Cron {
            expr: expr.into(),
            tz: Some(tz.into()),
        }
    }

    /// The firings of `trigger` after `from`, `n` of them.
    fn firings(trigger: &Trigger, from: &str, n: usize) -> Vec<String> {
        let anchor = utc(from);
        let mut at = anchor;
        let mut out = Vec::new();
        for _ in 0..n {
            let Some(next) = trigger.next_after(anchor, at) else {
                break;
            };
            out.push(next.to_rfc3339());
            at = next;
        }
        out
    }

    /// Real transitions of 2026: Madrid and New York spring forward in March and fall back in
    /// October and November; Sydney, in the southern hemisphere, the other way round.
    #[test]
    fn cron_times_across_daylight_saving_changes_run_once() {
        let table: &[(&str, &str, &str, &[&str])] = &[
            // 02:30 does not exist on 29 March in Madrid: one run, right after the jump.
            (
                "30 2 * * *",
                "Europe/Madrid",
                "2026-03-28T12:00:00Z",
                &["2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00"],
            ),
            // 02:30 happens twice on 25 October in Madrid: one run, the first time.
            (
                "30 2 * * *",
                "Europe/Madrid",
                "2026-10-24T12:00:00Z",
                &["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"],
            ),
            // Weekdays at 9 in New York: 14:00 UTC before 8 March, 13:00 UTC after.
            (
                "0 9 * * 1-5",
                "America/New_York",
                "2026-03-05T15:00:00Z",
                &[
                    "2026-03-06T14:00:00+00:00",
                    "2026-03-09T13:00:00+00:00",
                    "2026-03-10T13:00:00+00:00",
                ],
            ),
            // 01:30 happens twice on 1 November in New York: once.
            (
                "30 1 * * *",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                &["2026-11-01T05:30:00+00:00", "2026-11-02T06:30:00+00:00"],
            ),
            // Sydney falls back on 5 April (03:00 -> 02:00): 02:30 once.
            (
                "30 2 * * *",
                "Australia/Sydney",
                "2026-04-04T00:00:00Z",
                &["2026-04-04T15:30:00+00:00", "2026-04-05T16:30:00+00:00"],
            ),
            // Hourly through Madrid's spring night: 02:00 local does not exist, no hour twice.
            (
                "0 * * * *",
                "Europe/Madrid",
                "2026-03-28T23:30:00Z",
                &[
                    "2026-03-29T00:00:00+00:00",
                    "2026-03-29T01:00:00+00:00",
                    "2026-03-29T02:00:00+00:00",
                ],
            ),
        ];
        for (expr, tz, from, expected) in table {
            let got = firings(&cron(expr, tz), from, expected.len());
            assert_eq!(&got, expected, "{expr} in {tz} from {from}");
        }
    }

    #[test]
    fn intervals_count_from_when_the_schedule_was_added_in_real_time() {
        let every = Trigger::Every { every_secs: 1800 };
        let anchor = utc("2026-03-29T00:10:00Z");
        // Across Madrid's change it is still every 30 minutes of real time.
        assert_eq!(
            every.next_after(anchor, anchor),
            Some(utc("2026-03-29T00:40:00Z"))
        );
        assert_eq!(
            every.next_after(anchor, utc("2026-03-29T01:40:00Z")),
            Some(utc("2026-03-29T02:10:00Z"))
        );
        assert_eq!(
            every.next_after(anchor, utc("2026-03-29T01:39:59Z")),
            Some(utc("2026-03-29T01:40:00Z"))
        );
    }

    #[test]
    fn a_one_shot_fires_once_and_event_triggers_never_by_time() {
        let at = Trigger::At {
            at: utc("2026-12-01T09:00:00Z"),
        };
        let anchor = utc("2026-11-30T00:00:00Z");
        assert_eq!(
            at.next_after(anchor, anchor),
            Some(utc("2026-12-01T09:00:00Z"))
        );
        assert_eq!(at.next_after(anchor, utc("2026-12-01T09:00:00Z")), None);
        let watch = Trigger::Watch {
            dir: "inbox".into(),
            glob: Some("*.csv".into()),
        };
        assert_eq!(watch.next_after(anchor, anchor), None);
        assert!(watch.watches_name("q3.csv") && !watch.watches_name("q3.txt"));
        assert_eq!(Trigger::Webhook.next_after(anchor, anchor), None);
    }

    #[test]
    fn bad_cron_lines_zones_and_intervals_are_refused_with_what_is_wrong() {
        let cases = [
            (cron("0 9 * *", "UTC"), "five fields"),
            (cron("61 9 * * *", "UTC"), "cron"),
            (cron("0 9 * * 1-5", "Europe/Atlantis"), "unknown time zone"),
            (Trigger::Every { every_secs: 1 }, "at least"),
            (
                Trigger::Watch {
                    dir: "x".into(),
                    glob: Some("[".into()),
                },
                "bad --glob",
            ),
        ];
        for (trigger, words) in cases {
            let error = trigger.check().unwrap_err();
            assert!(error.contains(words), "{trigger:?}: {error}");
        }
        assert!(cron("0 9 * * 1-5", "Europe/Madrid").check().is_ok());
    }
}
