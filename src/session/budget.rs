//! Budgets: caps on what a session, or one agent role within it, may spend: tokens, wall time,
//! tool calls, and money where a price table knows the model. Reaching a cap pauses the agents
//! it concerns (nothing is killed) until the user raises it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::session_fold::SessionState;
use crate::format::{group_thousands, parse_age, whole_seconds};

/// Caps for one scope; None means no cap.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_time_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<u64>,
    /// US dollars; counted only for calls whose model has a price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub money: Option<f64>,
}

impl Caps {
    pub fn is_empty(&self) -> bool {
        self.tokens.is_none()
            && self.wall_time_secs.is_none()
            && self.tool_calls.is_none()
            && self.money.is_none()
    }

    /// The first cap `usage` has reached, if any. Tokens, time and money are counted once
    /// spent, so reaching the cap means nothing is left; a tool call is counted when asked for,
    /// so only one beyond the cap is held.
    pub fn reached(&self, usage: &Usage) -> Option<Limit> {
        let over = |cap: Option<u64>, used: u64| cap.is_some_and(|c| used >= c);
        if over(self.tokens, usage.tokens) {
            Some(Limit::Tokens)
        } else if self.tool_calls.is_some_and(|c| usage.tool_calls > c) {
            Some(Limit::ToolCalls)
        } else if over(self.wall_time_secs, usage.wall_ms / 1000) {
            Some(Limit::WallTime)
        } else if self.money.is_some_and(|c| usage.money >= c) {
            Some(Limit::Money)
        } else {
            None
        }
    }

    pub fn set(&mut self, limit: Limit, value: f64) {
        let whole = value.max(0.0).round() as u64;
        match limit {
            Limit::Tokens => self.tokens = Some(whole),
            Limit::WallTime => self.wall_time_secs = Some(whole),
            Limit::ToolCalls => self.tool_calls = Some(whole),
            Limit::Money => self.money = Some(value.max(0.0)),
        }
    }

    /// "20,000 tokens, 30m 0s, 50 tool calls, $2.50"
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = self.tokens {
            parts.push(format!("{} tokens", group_thousands(t)));
        }
        if let Some(s) = self.wall_time_secs {
            parts.push(whole_seconds(s * 1000));
        }
        if let Some(c) = self.tool_calls {
            parts.push(format!("{c} tool calls"));
        }
        if let Some(m) = self.money {
            parts.push(format!("${m:.2}"));
        }
        if parts.is_empty() {
            "no caps".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A session's budget: its own caps and caps per agent role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    #[serde(flatten)]
    pub session: Caps,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agents: BTreeMap<String, Caps>,
}

impl Budget {
    pub fn is_empty(&self) -> bool {
        self.session.is_empty() && self.agents.values().all(Caps::is_empty)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Tokens,
    WallTime,
    ToolCalls,
    Money,
}

impl Limit {
    pub fn parse(word: &str) -> Option<Limit> {
        match word {
            "tokens" => Some(Limit::Tokens),
            "wall" | "time" | "wall_time" => Some(Limit::WallTime),
            "tools" | "tool_calls" => Some(Limit::ToolCalls),
            "money" | "cost" | "usd" => Some(Limit::Money),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Limit::Tokens => "tokens",
            Limit::WallTime => "wall time",
            Limit::ToolCalls => "tool calls",
            Limit::Money => "money",
        }
    }
}

/// Who a cap applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "role", rename_all = "snake_case")]
pub enum Scope {
    Session,
    Role(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Session => write!(f, "session"),
            Scope::Role(role) => write!(f, "{role}"),
        }
    }
}

/// What a scope has spent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub tokens: u64,
    pub wall_ms: u64,
    pub tool_calls: u64,
    pub money: f64,
}

impl Usage {
    pub fn show(&self, limit: Limit) -> String {
        match limit {
            Limit::Tokens => group_thousands(self.tokens),
            Limit::WallTime => whole_seconds(self.wall_ms),
            Limit::ToolCalls => self.tool_calls.to_string(),
            Limit::Money => format!("${:.2}", self.money),
        }
    }
}

/// What a session, or one of its roles, has spent. Wall time is the session's running time, or
/// for a role the time its agents were at work.
pub fn usage(state: &SessionState, scope: &Scope, now_ms: i64) -> Usage {
    let mut u = Usage::default();
    let in_scope = |agent: &str| match scope {
        Scope::Session => true,
        Scope::Role(role) => role == agent,
    };
    for step in state.steps.iter().filter(|s| in_scope(&s.spec.agent)) {
        u.tokens += step.metrics.total_tokens();
        u.tool_calls += step.metrics.tool_calls;
        u.money += step.cost;
        if matches!(scope, Scope::Role(_)) {
            u.wall_ms += step.busy_ms(now_ms);
        }
    }
    if *scope == Scope::Session {
        u.tokens += state.planner_metrics.total_tokens();
        u.money += state.planner_cost;
        u.wall_ms = state.active_ms(now_ms);
    }
    u
}

/// Every scope (the session, or a role) that has reached one of its caps, with the first such
/// cap and the reason in words.
pub fn all_reached(state: &SessionState, now_ms: i64) -> Vec<(Scope, Limit, String)> {
    let budget = &state.budget;
    let mut scopes = vec![(Scope::Session, &budget.session)];
    scopes.extend(
        budget
            .agents
            .iter()
            .map(|(role, caps)| (Scope::Role(role.clone()), caps)),
    );
    scopes
        .into_iter()
        .filter_map(|(scope, caps)| {
            let used = usage(state, &scope, now_ms);
            caps.reached(&used).map(|limit| {
                let cap = Usage {
                    tokens: caps.tokens.unwrap_or(0),
                    wall_ms: caps.wall_time_secs.unwrap_or(0) * 1000,
                    tool_calls: caps.tool_calls.unwrap_or(0),
                    money: caps.money.unwrap_or(0.0),
                };
                let (used, cap) = (used.show(limit), cap.show(limit));
                let amount = match limit {
                    Limit::Tokens | Limit::ToolCalls => {
                        format!("{used} of {cap} {}", limit.label())
                    }
                    Limit::WallTime | Limit::Money => format!("{} {used} of {cap}", limit.label()),
                };
                (
                    scope.clone(),
                    limit,
                    format!("{scope} budget reached: {amount}"),
                )
            })
        })
        .collect()
}

/// A cap's value as people write it: `50000` or `50_000` tokens, `30m` or `1800` seconds of
/// wall time, `12` tool calls, `2.50` or `$2.50`.
pub fn parse_cap(limit: Limit, text: &str) -> Result<f64, String> {
    let text = text.trim();
    let bad = |what: &str| format!("`{text}` is not {what}");
    match limit {
        Limit::Tokens | Limit::ToolCalls => text
            .replace(['_', ','], "")
            .parse::<u64>()
            .map(|n| n as f64)
            .map_err(|_| bad("a whole number")),
        Limit::WallTime => match text.parse::<u64>() {
            Ok(secs) => Ok(secs as f64),
            Err(_) => parse_age(text).map(|d| d.as_secs() as f64),
        },
        Limit::Money => text
            .trim_start_matches('$')
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| bad("an amount of dollars")),
    }
}

/// `[role] <limit> <value>` as typed after `/budget`, applied to a copy of `budget`.
pub fn apply_cap_words(
    budget: &Budget,
    words: &[&str],
    roles: &[String],
) -> Result<Budget, String> {
    let usage = "usage: /budget [role] tokens|wall|tools|money <value>";
    let (role, rest) = match words {
        [role, rest @ ..] if roles.iter().any(|r| r == role) => (Some(*role), rest),
        _ => (None, words),
    };
    let [limit, value] = rest else {
        return Err(usage.into());
    };
    let limit = Limit::parse(limit).ok_or_else(|| {
        format!("`{limit}` is not a budget (tokens, wall, tools or money); {usage}")
    })?;
    let value = parse_cap(limit, value)?;
    let mut out = budget.clone();
    match role {
        Some(role) => out
            .agents
            .entry(role.to_string())
            .or_default()
            .set(limit, value),
        None => out.session.set(limit, value),
    }
    Ok(out)
}

/// Price per million tokens for a model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_per_mtok + output_tokens as f64 * self.output_per_mtok)
            / 1_000_000.0
    }
}

/// Tokens per minute of running time, and what the whole plan will take at the rate so far:
/// tokens spent divided by the share of the plan done (finished steps, plus running steps'
/// progress). No projection before any of the plan is done.
pub fn burn_and_projection(state: &SessionState, now_ms: i64) -> Option<(f64, Option<u64>)> {
    let used = usage(state, &Scope::Session, now_ms);
    let minutes = used.wall_ms as f64 / 60_000.0;
    if state.steps.is_empty() || minutes <= 0.0 || used.tokens == 0 {
        return None;
    }
    let done: f64 = state.steps.iter().map(|s| s.progress()).sum();
    let share = done / state.steps.len() as f64;
    let projected = (share > 0.0).then(|| ((used.tokens as f64 / share) as u64).max(used.tokens));
    Some((used.tokens as f64 / minutes, projected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cap_reached_is_named() {
        let caps = Caps {
            tokens: Some(1000),
            tool_calls: Some(5),
            ..Caps::default()
        };
        let mut used = Usage {
            tokens: 999,
            tool_calls: 5,
            ..Usage::default()
        };
        assert_eq!(caps.reached(&used), None, "five tool calls are allowed");
        used.tool_calls = 6;
        assert_eq!(caps.reached(&used), Some(Limit::ToolCalls));
        used.tokens = 1000;
        assert_eq!(caps.reached(&used), Some(Limit::Tokens));
        assert_eq!(Caps::default().reached(&used), None);
    }

    #[test]
    fn budgets_read_and_describe() {
        let b: Budget = toml::from_str(
            "tokens = 20000\nmoney = 2.5\n[agents.writer]\ntool_calls = 3\nwall_time_secs = 90\n",
        )
        .unwrap();
        assert_eq!(b.session.describe(), "20,000 tokens, $2.50");
        assert_eq!(b.agents["writer"].describe(), "1m 30s, 3 tool calls");
        assert!(!b.is_empty());
        assert!(Budget::default().is_empty());
        assert!(toml::from_str::<Budget>("tokenz = 1").is_err());
    }

    #[test]
    fn caps_are_typed_as_people_write_them() {
        assert_eq!(parse_cap(Limit::Tokens, "50_000"), Ok(50_000.0));
        assert_eq!(parse_cap(Limit::WallTime, "30m"), Ok(1800.0));
        assert_eq!(parse_cap(Limit::WallTime, "90"), Ok(90.0));
        assert_eq!(parse_cap(Limit::Money, "$2.50"), Ok(2.5));
        assert!(parse_cap(Limit::Tokens, "lots").is_err());
        assert!(parse_cap(Limit::Money, "-1").is_err());
        let roles = vec!["writer".to_string()];
        let b = apply_cap_words(&Budget::default(), &["writer", "tools", "5"], &roles).unwrap();
        assert_eq!(b.agents["writer"].tool_calls, Some(5));
        let b = apply_cap_words(&b, &["tokens", "1000"], &roles).unwrap();
        assert_eq!(b.session.tokens, Some(1000));
        assert!(
            apply_cap_words(&b, &["poet", "tokens", "1"], &roles)
                .unwrap_err()
                .starts_with("usage")
        );
        assert!(
            apply_cap_words(&b, &["bananas", "1"], &roles)
                .unwrap_err()
                .contains("is not a budget")
        );
    }

    #[test]
    fn prices_are_per_million_tokens() {
        let p = Price {
            input_per_mtok: 3.0,
            output_per_mtok: 15.0,
        };
        assert!((p.cost(1_000_000, 100_000) - 4.5).abs() < 1e-9);
    }
}
