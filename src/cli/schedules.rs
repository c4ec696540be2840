//! `el-jefe schedule`: workflows that start themselves, kept and fired by the server.

use std::collections::BTreeMap;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};

use super::Context;
use super::args::{ScheduleAddArgs, ScheduleCmd};
use super::attached::connect;
use el_jefe::client::Target;
use el_jefe::headless::schedules::{added_text, fired_text, schedule_text, schedules_table};
use el_jefe::schedule::change::{ChangeAnswer, ScheduleChange};
use el_jefe::schedule::policy::Policies;
use el_jefe::schedule::spec::{ScheduleSpec, Work};
use el_jefe::schedule::trigger::Trigger;
use el_jefe::session::budget::{Budget, apply_cap_words};
use el_jefe::session::provider_choice::ProviderChoice;

pub fn schedule(cx: &Context, target: Target, action: ScheduleCmd) -> anyhow::Result<i32> {
    cx.runtime.block_on(async {
        let mut remote = connect(target, "el-jefe-schedule").await?;
        let url = remote.url().to_string();
        let change = match action {
            ScheduleCmd::List { json } => {
                remote.snapshot(Some(Vec::new())).await?;
                let views = remote.schedules().cloned().unwrap_or_default();
                if json {
                    println!("{}", serde_json::to_string_pretty(&*views)?);
                } else {
                    print!("{}", schedules_table(&views, Utc::now()));
                }
                return Ok(0);
            }
            ScheduleCmd::Show { name, json } => {
                remote.snapshot(Some(Vec::new())).await?;
                let views = remote.schedules().cloned().unwrap_or_default();
                let Some(view) = views.iter().find(|v| v.state.spec.name == name) else {
                    anyhow::bail!("the server at {url} has no schedule {name}");
                };
                if json {
                    println!("{}", serde_json::to_string_pretty(view)?);
                } else {
                    print!("{}", schedule_text(view, Utc::now()));
                }
                return Ok(0);
            }
            ScheduleCmd::Add(args) => {
                super::attached::check_provider_choice(&remote, &cx.session_providers)?;
                let mut spec = spec_of(*args)?;
                spec.providers = cx.session_providers.clone();
                ScheduleChange::Add {
                    spec: Box::new(spec),
                }
            }
            ScheduleCmd::Pause { name } => ScheduleChange::Pause { name },
            ScheduleCmd::Resume { name } => ScheduleChange::Resume { name },
            ScheduleCmd::Remove { name } => ScheduleChange::Remove { name },
            ScheduleCmd::RunNow { name, vars } => ScheduleChange::RunNow {
                name,
                vars: vars.into_iter().collect::<BTreeMap<_, _>>(),
            },
        };
        let label = change.label();
        let name = change.name().to_string();
        match remote.change_schedule(change).await? {
            ChangeAnswer::Added { next_due_ms, hook } => {
                print!("{}", added_text(&name, next_due_ms, hook.as_ref(), &url));
            }
            ChangeAnswer::Done => println!("done: {label}"),
            ChangeAnswer::Fired(fired) => println!("{}", fired_text(&name, &fired)),
        }
        Ok(0)
    })
}

/// The schedule the flags describe; files and folders are read and resolved here, on the
/// client's machine.
fn spec_of(args: ScheduleAddArgs) -> anyhow::Result<ScheduleSpec> {
    let trigger = if let Some(expr) = args.cron {
        Trigger::Cron {
            expr,
            tz: args.tz.clone(),
        }
    } else if let Some(every) = args.every {
        Trigger::Every {
            every_secs: every.as_secs(),
        }
    } else if let Some(at) = args.at {
        Trigger::At {
            at: parse_at(&at, args.tz.as_deref())?,
        }
    } else if let Some(dir) = args.watch {
        let dir = std::path::absolute(&dir)
            .map_err(|e| anyhow::anyhow!("--watch {}: {e}", dir.display()))?;
        Trigger::Watch {
            dir,
            glob: args.glob,
        }
    } else if args.webhook {
        Trigger::Webhook
    } else {
        anyhow::bail!("say when: --cron, --every, --at, --watch or --webhook");
    };
    let work = match (args.goal, args.plan) {
        (Some(goal), _) => Work::Goal { goal },
        (None, Some(path)) => Work::Plan {
            file: path.display().to_string(),
            text: std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        },
        (None, None) => anyhow::bail!("say what to run: --goal or --plan"),
    };
    let mut policies = Policies::default_for(trigger.is_timed());
    if let Some(overlap) = args.overlap {
        policies.overlap = overlap;
    }
    if let Some(missed) = args.missed {
        policies.missed = missed;
    }
    policies.max_per_hour = args.max_per_hour;
    let mut budget = Budget::default();
    for (limit, value) in [
        ("tokens", args.budget_tokens),
        ("money", args.budget_money),
        ("wall", args.budget_wall),
    ] {
        if let Some(value) = value {
            budget = apply_cap_words(&budget, &[limit, &value], &[])
                .map_err(|e| anyhow::anyhow!("--budget-{limit}: {e}"))?;
        }
    }
    policies.budget = (!budget.is_empty()).then_some(budget);
    let spec = ScheduleSpec {
        name: args.name,
        trigger,
        work,
        policies,
        providers: ProviderChoice::default(),
    };
    // Said here, before the server is asked, with the same words it would use.
    spec.check().map_err(anyhow::Error::msg)?;
    Ok(spec)
}

/// `--at`: an instant with an offset, or a local time in `tz` (the machine's zone without).
fn parse_at(text: &str, tz: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| {
            anyhow::anyhow!("--at {text:?}: give 2026-12-01T09:00 (or with an offset)")
        })?;
    let local = match tz {
        Some(name) => {
            let zone: chrono_tz::Tz = name
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown time zone {name:?}"))?;
            zone.from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }
        None => Local
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    };
    local.ok_or_else(|| {
        anyhow::anyhow!("--at {text}: that local time does not exist (the clocks jump)")
    })
}
