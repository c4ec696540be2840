//! What a new user sees on the embedded model: 30 varied goals (benches/data/goals.txt), each
//! planned and run start to finish by the engine on SmolLM2, as `el-jefe` does by default.
//! Measures, with the bars from the issue that set them:
//! - plans with 3 or more steps over 2 or more roles (at least 80 %);
//! - plans with two steps that can run at once (at least half);
//! - step outputs holding a line of their own system prompt or tool guide verbatim (at most 5 %).
//!
//! ```sh
//! cargo bench --bench first_impression                  # all 30 goals (about 20 minutes)
//! cargo test --release --bench first_impression         # two goals, as CI runs it
//! cargo bench --bench first_impression -- --plans-only  # the plans alone (about 9 minutes)
//! ```

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

// The allocator the product runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::sync::Arc;

use el_jefe::config::{Config, Overrides};
use el_jefe::engine::{EngineSettings, start_engine};
use el_jefe::provider::local::LocalProvider;
use el_jefe::provider::tool_actions::action_request;
use el_jefe::provider::{ChatMessage, ChatRequest};
use el_jefe::session::event::{ApprovalDecision, EngineEvent, Event};
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::{Plan, PlanSource};
use el_jefe::store::Store;
use el_jefe::store::paths::AppDirs;

const GOALS: &str = include_str!("data/goals.txt");
/// Shorter lines of a prompt ("Tools:") would match ordinary text by chance.
const MIN_ECHO_CHARS: usize = 24;

struct Outcome {
    goal: String,
    plan: Plan,
    source: PlanSource,
    /// (step, agent, output) of every completed step.
    outputs: Vec<(StepId, String, String)>,
    /// Why the model's plans were refused, attempt by attempt.
    rejections: Vec<String>,
}

/// Every pair of steps of which neither needs the other, directly or not.
fn has_parallel_pair(plan: &Plan) -> bool {
    let index: BTreeMap<&StepId, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.id, i))
        .collect();
    let n = plan.steps.len();
    // reach[i][j]: step j is (transitively) a dependency of step i.
    let mut reach = vec![vec![false; n]; n];
    for (i, s) in plan.steps.iter().enumerate() {
        for d in &s.depends_on {
            if let Some(&j) = index.get(d) {
                reach[i][j] = true;
            }
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if reach[i][k] && reach[k][j] {
                    reach[i][j] = true;
                }
            }
        }
    }
    (0..n).any(|i| (i + 1..n).any(|j| !reach[i][j] && !reach[j][i]))
}

fn roles(plan: &Plan) -> usize {
    let mut r: Vec<&str> = plan.steps.iter().map(|s| s.agent.as_str()).collect();
    r.sort_unstable();
    r.dedup();
    r.len()
}

/// The lines of what the model was told as system prompt for a step of `agent`: the role's
/// instructions, plus the tool guide when the role is offered tools.
fn prompt_lines(engine: &EngineSettings, agent: &str) -> Vec<String> {
    let Some(role) = engine.roles.get(agent) else {
        return Vec::new();
    };
    let mut request = ChatRequest::new(vec![ChatMessage::system(role.system_prompt.clone())]);
    request.tools = engine
        .tools
        .offered(&role.name, role.tools.as_deref())
        .into();
    let system = if request.tools.is_empty() {
        role.system_prompt.clone()
    } else {
        action_request(request).messages[0].content.clone()
    };
    system
        .lines()
        .map(normalized)
        .filter(|l| l.chars().count() >= MIN_ECHO_CHARS)
        .collect()
}

/// Lower case, one space between words: a line copied with its capitals changed or its spaces
/// reflowed ("- Read_file {...}") is still a copy.
fn normalized(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn run_goal(
    runtime: &tokio::runtime::Runtime,
    provider: Arc<LocalProvider>,
    engine: &EngineSettings,
    goal: &str,
    plans_only: bool,
) -> Outcome {
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sessions")).unwrap();
        let mut settings = engine.clone();
        settings.workspace_root = dir.path().join("ws");
        let (handle, mut events) = start_engine(settings, provider, store);
        handle.start_session(goal).unwrap();
        let mut outcome = Outcome {
            goal: goal.to_string(),
            plan: Plan { steps: vec![] },
            source: PlanSource::Default,
            outputs: vec![],
            rejections: vec![],
        };
        'events: while let Some(event) = events.recv().await {
            let EngineEvent::Events(batch) = event else {
                continue;
            };
            for env in batch {
                match &env.event {
                    Event::PlanRejected { error, .. } => outcome.rejections.push(error.clone()),
                    Event::PlanReady { plan, source } => {
                        outcome.plan = plan.clone();
                        outcome.source = *source;
                        if plans_only {
                            handle.interrupt_session(&env.session).unwrap();
                        }
                    }
                    Event::StepCompleted { step, output, .. } => {
                        let agent = outcome
                            .plan
                            .step(step)
                            .map(|s| s.agent.clone())
                            .unwrap_or_default();
                        outcome.outputs.push((step.clone(), agent, output.clone()));
                    }
                    // As `el-jefe run` without --allow: nobody is there to say yes.
                    Event::ApprovalRequested { call_id, .. } => {
                        handle
                            .decide_approval(
                                &env.session,
                                call_id,
                                ApprovalDecision::Deny {
                                    reason: Some("nobody can approve tools in this run".into()),
                                },
                            )
                            .unwrap();
                    }
                    e if e.ends_session() => break 'events,
                    _ => {}
                }
            }
        }
        handle.shutdown().await;
        outcome
    })
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    // Only the planning, for trying planner changes quickly: the step rows stay empty.
    let plans_only = std::env::args().any(|a| a == "--plans-only");
    // The defaults a new user gets: the model where setup puts it, and no config file (an
    // empty config directory, and no environment).
    let data = AppDirs::from_env().expect("app dirs").data;
    let no_config = tempfile::tempdir().unwrap();
    let dirs = AppDirs {
        data,
        config: no_config.path().to_path_buf(),
    };
    let config = Config::load_with(&dirs, |_| None, &Overrides::default()).expect("config");
    let engine = config.engine.clone();
    let provider = Arc::new(
        LocalProvider::load(config.local)
            .expect("the embedded model loads (scripts/setup.sh downloads it)"),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let goals: Vec<&str> = GOALS.lines().filter(|l| !l.trim().is_empty()).collect();
    let goals = if quick { &goals[..2] } else { &goals[..] };
    let (mut shaped, mut parallel, mut outputs, mut echoes, mut fallbacks) = (0, 0, 0, 0, 0);
    // The same two counts over the model's own plans only (not the default plan).
    let (mut model_shaped, mut model_parallel) = (0, 0);
    for goal in goals {
        let o = run_goal(&runtime, provider.clone(), &engine, goal, plans_only);
        let steps = o.plan.steps.len();
        let good_shape = steps >= 3 && roles(&o.plan) >= 2;
        let can_overlap = has_parallel_pair(&o.plan);
        shaped += usize::from(good_shape);
        parallel += usize::from(can_overlap);
        fallbacks += usize::from(o.source == PlanSource::Default);
        if o.source == PlanSource::Model {
            model_shaped += usize::from(good_shape);
            model_parallel += usize::from(can_overlap);
        }
        let mut echoed = 0;
        for (_, agent, output) in &o.outputs {
            let lines = prompt_lines(&engine, agent);
            let output = normalized(output);
            if lines.iter().any(|l| output.contains(l.as_str())) {
                echoed += 1;
            }
        }
        outputs += o.outputs.len();
        echoes += echoed;
        let shape: Vec<String> = o
            .plan
            .steps
            .iter()
            .map(|s| {
                let deps: Vec<&str> = s.depends_on.iter().map(StepId::as_str).collect();
                format!("{}:{}<{}>", s.id, s.agent, deps.join(","))
            })
            .collect();
        println!(
            "{:<72} {} steps, {} roles{}{}{}  echoes {}/{}  [{}]",
            o.goal,
            steps,
            roles(&o.plan),
            if can_overlap { ", parallel" } else { "" },
            if good_shape { "" } else { ", SHORT" },
            if o.source == PlanSource::Default {
                ", DEFAULT PLAN"
            } else {
                ""
            },
            echoed,
            o.outputs.len(),
            shape.join(" ")
        );
        for r in &o.rejections {
            println!("    plan refused: {r}");
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let n = goals.len();
    println!();
    println!(
        "plans with 3+ steps over 2+ roles: {shaped}/{n} ({:.0} %, target at least 80 %)",
        pct(shaped, n)
    );
    println!(
        "plans with two steps that can run at once: {parallel}/{n} ({:.0} %, target at least 50 %)",
        pct(parallel, n)
    );
    println!(
        "step outputs echoing their prompt or tool guide: {echoes}/{outputs} ({:.1} %, target at most 5 %)",
        pct(echoes, outputs)
    );
    println!("default plans (the model's plan failed twice): {fallbacks}/{n}");
    println!(
        "of the model's own {} plans: {model_shaped} with 3+ steps over 2+ roles, {model_parallel} \
         with two steps that can run at once",
        n - fallbacks
    );
    assert!(outputs > 0, "no step completed");
}
