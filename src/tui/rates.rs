//! Measurements the dashboard samples over time: each agent's tokens per second, and this
//! process's own CPU and memory.

use std::collections::VecDeque;

/// How many one-second samples are kept (two minutes).
pub const HISTORY: usize = 120;

/// Output tokens per second of one agent, one sample per tick.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateHistory {
    last_tokens: Option<u64>,
    pub per_second: VecDeque<u64>,
}

impl RateHistory {
    /// Records the agent's token count at a one-second tick.
    pub fn sample(&mut self, tokens: u64) {
        if let Some(prev) = self.last_tokens {
            if self.per_second.len() == HISTORY {
                self.per_second.pop_front();
            }
            self.per_second.push_back(tokens.saturating_sub(prev));
        }
        self.last_tokens = Some(tokens);
    }

    /// The latest rate, smoothed over the last two seconds.
    pub fn current(&self) -> Option<f64> {
        let n = self.per_second.len().min(2);
        (n > 0).then(|| self.per_second.iter().rev().take(n).sum::<u64>() as f64 / n as f64)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessStats {
    /// CPU use as a percentage of one core, one sample per tick.
    pub cpu: VecDeque<u64>,
    pub rss_bytes: u64,
    last_cpu_ticks: Option<u64>,
}

impl ProcessStats {
    /// Reads /proc/self (Linux); elsewhere the figures stay empty.
    pub fn sample(&mut self, elapsed_secs: f64) {
        if let Some(ticks) = read_cpu_ticks() {
            if let Some(prev) = self.last_cpu_ticks
                && elapsed_secs > 0.0
            {
                // /proc reports CPU time in USER_HZ, fixed at 100 per second by the kernel ABI.
                let pct = (ticks.saturating_sub(prev)) as f64 / elapsed_secs;
                if self.cpu.len() == HISTORY {
                    self.cpu.pop_front();
                }
                self.cpu.push_back(pct.round() as u64);
            }
            self.last_cpu_ticks = Some(ticks);
        }
        if let Some(rss) = read_rss_bytes() {
            self.rss_bytes = rss;
        }
    }

    pub fn current_cpu(&self) -> Option<u64> {
        self.cpu.back().copied()
    }
}

fn read_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; fields after it start past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn read_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_differences_smoothed_over_two() {
        let mut r = RateHistory::default();
        assert_eq!(r.current(), None);
        r.sample(0);
        r.sample(80);
        assert_eq!(r.current(), Some(80.0));
        r.sample(180);
        assert_eq!(r.current(), Some(90.0));
        assert_eq!(r.per_second, [80, 100]);
    }

    #[test]
    fn this_process_can_be_measured_on_linux() {
        let mut p = ProcessStats::default();
        p.sample(1.0);
        p.sample(1.0);
        if cfg!(target_os = "linux") {
            assert!(p.rss_bytes > 0);
            assert!(p.current_cpu().is_some());
        }
    }
}
