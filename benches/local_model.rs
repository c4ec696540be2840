//! The embedded model, SmolLM2-135M Q4_1, measured side by side in one run:
//!
//! 1. a bare llama.cpp decode loop (no engine, no channels), and
//! 2. the full path: local provider -> engine (journaling on) -> an event consumer,
//!
//! on the same model, threads, context layout, prompt and sampler chain, so the difference is
//! El Jefe's own plumbing. Then the same step with tools offered (the action grammar), and
//! aggregate generation with 1, 2 and 3 agents at once.
//!
//!     cargo bench --bench local_model
//!
//! Needs the model (scripts/setup.sh). Each figure is the median of 5 runs, bare and full
//! alternating so machine noise hits both alike.

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

// The allocator the product runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use el_jefe::config::{Config, Overrides};
use el_jefe::engine::prompts::step_messages;
use el_jefe::engine::{EngineSettings, start_engine};
use el_jefe::provider::local::{self, LocalProvider};
use el_jefe::provider::{ChatRequest, LocalSettings};
use el_jefe::session::call::CallMode;
use el_jefe::session::event::{EngineEvent, Event};
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::store::Store;
use el_jefe::store::paths::AppDirs;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};

const RUNS: usize = 5;
const GOAL: &str = "Write a long, detailed history of the printing press";
const TASK: &str = "Write a long, detailed, multi-part history of the printing press, from its \
                    earliest forms in East Asia to Gutenberg and the modern era.";

/// Step `i` of a parallel run. Plans may not repeat a task, so copies after the first get a
/// short suffix (two or three tokens more prompt, too little to move the figures).
fn spec(i: usize) -> StepSpec {
    let task = if i == 0 {
        TASK.to_string()
    } else {
        format!("{TASK} (Copy {}.)", i + 1)
    };
    StepSpec {
        id: StepId::new(format!("{}", i + 1)),
        title: "History".into(),
        agent: "writer".into(),
        task,
        depends_on: vec![],
    }
}

#[derive(Clone, Copy, Debug)]
struct Rates {
    prompt_tps: f64,
    gen_tps: f64,
    generated: u64,
}

/// The local settings, and the engine settings with the writer offering no tools (see below)
/// and with its configured tools.
fn settings() -> (LocalSettings, EngineSettings, EngineSettings) {
    let dirs = AppDirs::from_env().expect("app dirs");
    let config = Config::load(&dirs, &Overrides::default()).expect("config");
    let mut engine = config.engine;
    let writer = engine.roles.get_mut("writer").unwrap();
    writer.max_tokens = 256;
    writer.temperature = 0.0;
    // The bare loop has no tools; offering none keeps the two paths comparable. The cost of
    // offering tools (the action format and its grammar) is measured on its own below.
    let with_tools = engine.clone();
    engine.roles.get_mut("writer").unwrap().tools = Some(vec![]);
    (config.local, engine, with_tools)
}

fn request(engine: &EngineSettings) -> ChatRequest {
    let role = engine.roles.get("writer").unwrap();
    let mut r = ChatRequest::new(step_messages(role, GOAL, &spec(0), &[], 3000));
    r.max_tokens = role.max_tokens;
    r.temperature = role.temperature;
    r
}

/// The request as the model sees it: chat template applied, tokenized.
fn prompt_tokens(model: &LlamaModel, req: &ChatRequest) -> Vec<llama_cpp_2::token::LlamaToken> {
    let template = model.chat_template(None).unwrap();
    let messages: Vec<LlamaChatMessage> = req
        .messages
        .iter()
        .map(|m| LlamaChatMessage::new(m.role.as_str().into(), m.content.clone()).unwrap())
        .collect();
    let prompt = model
        .apply_chat_template(&template, &messages, true)
        .unwrap();
    let vocab = model.vocab();
    vocab.tokenize(prompt.as_bytes(), vocab.should_add_bos(), true)
}

/// The bare loop: tokenize, decode the prompt, then sample-decode one token at a time.
fn bare(model: &LlamaModel, local: &LocalSettings, req: &ChatRequest) -> Rates {
    let backend = local::backend().unwrap();
    let mut ctx = model
        .new_context(backend, local::context_params(local))
        .unwrap();
    let vocab = model.vocab();
    let tokens = prompt_tokens(model, req);
    let mut sampler = local::build_sampler(model, req).unwrap();
    let mut batch = LlamaBatch::new(512, 1);
    let start = Instant::now();
    for (i, t) in tokens.iter().enumerate() {
        batch
            .add(*t, i as i32, &[0], i + 1 == tokens.len())
            .unwrap();
    }
    ctx.decode(&mut batch).unwrap();
    let mut token = sampler.sample(&ctx, batch.n_tokens() - 1).unwrap();
    let prompt_time = start.elapsed();
    let first = Instant::now();
    let mut generated = 1u64;
    let mut pos = tokens.len() as i32;
    while generated < u64::from(req.max_tokens) && !vocab.is_eog(token) {
        batch.clear();
        batch.add(token, pos, &[0], true).unwrap();
        pos += 1;
        ctx.decode(&mut batch).unwrap();
        token = sampler.sample(&ctx, 0).unwrap();
        generated += 1;
    }
    Rates {
        prompt_tps: tokens.len() as f64 / prompt_time.as_secs_f64(),
        gen_tps: (generated - 1) as f64 / first.elapsed().as_secs_f64(),
        generated,
    }
}

/// The bare batched loop: `n` sequences of the same prompt, one decode call per step for all.
fn bare_batched(model: &LlamaModel, local: &LocalSettings, req: &ChatRequest, n: usize) -> f64 {
    let backend = local::backend().unwrap();
    let mut ctx = model
        .new_context(backend, local::context_params(local))
        .unwrap();
    let tokens = prompt_tokens(model, req);
    let mut samplers: Vec<_> = (0..n)
        .map(|_| local::build_sampler(model, req).unwrap())
        .collect();
    let mut batch = LlamaBatch::new(512, n as i32);
    let mut next = Vec::new();
    for (seq, sampler) in samplers.iter_mut().enumerate() {
        batch.clear();
        for (i, t) in tokens.iter().enumerate() {
            batch
                .add(*t, i as i32, &[seq as i32], i + 1 == tokens.len())
                .unwrap();
        }
        ctx.decode(&mut batch).unwrap();
        next.push(sampler.sample(&ctx, batch.n_tokens() - 1).unwrap());
    }
    let start = Instant::now();
    let steps = req.max_tokens as usize - 1;
    for step in 0..steps {
        batch.clear();
        for (seq, t) in next.iter().enumerate() {
            batch
                .add(*t, (tokens.len() + step) as i32, &[seq as i32], true)
                .unwrap();
        }
        ctx.decode(&mut batch).unwrap();
        for (seq, t) in next.iter_mut().enumerate() {
            *t = samplers[seq].sample(&ctx, seq as i32).unwrap();
        }
    }
    (steps * n) as f64 / start.elapsed().as_secs_f64()
}

struct AgentTrace {
    first: Option<Instant>,
    last: Option<Instant>,
    /// (arrival, pieces) of each text event.
    pieces: Vec<(Instant, u32)>,
    input_tokens: u64,
    ttft_ms: u64,
}

/// The full path: a session with `agents` independent copies of the step, run by the engine.
fn full(
    runtime: &tokio::runtime::Runtime,
    provider: Arc<LocalProvider>,
    engine: &EngineSettings,
    agents: usize,
) -> Vec<AgentTrace> {
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sessions")).unwrap();
        let mut settings = engine.clone();
        settings.max_parallel = agents;
        settings.workspace_root = dir.path().join("ws");
        settings.mode = CallMode::Streaming;
        let (handle, mut events) = start_engine(settings, provider, store);
        let plan = Plan {
            steps: (0..agents).map(spec).collect(),
        };
        handle.start_session_with_plan(GOAL, plan).unwrap();
        let mut traces: Vec<AgentTrace> = (0..agents)
            .map(|_| AgentTrace {
                first: None,
                last: None,
                pieces: vec![],
                input_tokens: 0,
                ttft_ms: 0,
            })
            .collect();
        'events: while let Some(ev) = events.recv().await {
            let batch = match ev {
                EngineEvent::Events(batch) => batch,
                EngineEvent::Rejected { reason, .. } => {
                    panic!("the engine refused the run: {reason}")
                }
                _ => continue,
            };
            for env in batch {
                match &env.event {
                    Event::TextDelta { step, chunks, .. } => {
                        let now = Instant::now();
                        let t = &mut traces[step.as_str().parse::<usize>().unwrap() - 1];
                        t.first.get_or_insert(now);
                        t.last = Some(now);
                        t.pieces.push((now, *chunks));
                    }
                    Event::CallFinished {
                        step: Some(step),
                        call,
                    } => {
                        let t = &mut traces[step.as_str().parse::<usize>().unwrap() - 1];
                        t.input_tokens = call.input_tokens;
                        t.ttft_ms = call.ttft_ms.unwrap_or(0);
                    }
                    Event::SessionCompleted => break 'events,
                    e if e.ends_session() => panic!("{e:?}"),
                    _ => {}
                }
            }
        }
        handle.shutdown().await;
        traces
    })
}

fn single_rates(trace: &AgentTrace) -> Rates {
    let generated: u64 = trace.pieces.iter().map(|(_, n)| u64::from(*n)).sum();
    let span = trace.last.unwrap() - trace.first.unwrap();
    // The first piece arrives at `first`; the rest arrive over `span`.
    let after_first = generated - u64::from(trace.pieces[0].1);
    Rates {
        prompt_tps: trace.input_tokens as f64 / (trace.ttft_ms as f64 / 1000.0),
        gen_tps: after_first as f64 / span.as_secs_f64(),
        generated,
    }
}

/// Tokens per second while every agent is generating: from the last agent's first token to the
/// first agent's last token.
fn aggregate_rate(traces: &[AgentTrace]) -> (f64, Duration) {
    let start = traces.iter().map(|t| t.first.unwrap()).max().unwrap();
    let end = traces.iter().map(|t| t.last.unwrap()).min().unwrap();
    let tokens: u64 = traces
        .iter()
        .flat_map(|t| t.pieces.iter())
        .filter(|(at, _)| *at > start && *at <= end)
        .map(|(_, n)| u64::from(*n))
        .sum();
    let window = end.saturating_duration_since(start);
    (tokens as f64 / window.as_secs_f64(), window)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    let (local_settings, engine, with_tools) = settings();
    let req = request(&engine);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let provider = Arc::new(
        LocalProvider::load(local_settings.clone()).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1);
        }),
    );
    let backend = local::backend().unwrap();
    let model = LlamaModel::load_from_file(
        backend,
        &local_settings.model_path,
        &LlamaModelParams::default(),
    )
    .unwrap();

    // Warm up both (page cache, thread pools).
    bare(&model, &local_settings, &req);
    full(&runtime, provider.clone(), &engine, 1);

    let (mut bare_p, mut bare_g, mut full_p, mut full_g) = (vec![], vec![], vec![], vec![]);
    let mut lengths = (0, 0);
    for _ in 0..runs {
        let b = bare(&model, &local_settings, &req);
        let f = single_rates(&full(&runtime, provider.clone(), &engine, 1)[0]);
        bare_p.push(b.prompt_tps);
        bare_g.push(b.gen_tps);
        full_p.push(f.prompt_tps);
        full_g.push(f.gen_tps);
        lengths = (b.generated, f.generated);
    }
    let (bg, fg) = (median(bare_g), median(full_g));
    println!(
        "local model, {} threads, flash attention {}, median of {runs}:",
        local_settings.threads,
        if local_settings.flash_attention {
            "on"
        } else {
            "off"
        }
    );
    println!(
        "  bare llama.cpp loop:   prompt {:>6.1} tok/s   generation {:>6.1} tok/s   ({} tokens)",
        median(bare_p),
        bg,
        lengths.0
    );
    println!(
        "  full path to consumer: prompt {:>6.1} tok/s   generation {:>6.1} tok/s   ({} tokens)",
        median(full_p),
        fg,
        lengths.1
    );
    println!("  full / bare generation: {:.1} %", fg / bg * 100.0);

    // Every built-in role offers tools, so on the local model every step decodes under the
    // action grammar. Same step, tools offered or not, alternating.
    let (mut plain_g, mut tools_g) = (vec![], vec![]);
    for _ in 0..runs {
        plain_g.push(single_rates(&full(&runtime, provider.clone(), &engine, 1)[0]).gen_tps);
        tools_g.push(single_rates(&full(&runtime, provider.clone(), &with_tools, 1)[0]).gen_tps);
    }
    let (pg, tg) = (median(plain_g), median(tools_g));
    println!(
        "  tools offered (action grammar): generation {tg:>6.1} tok/s against {pg:>6.1} without ({:.1} %)",
        tg / pg * 100.0
    );

    for flash_attention in [true, false] {
        let mut settings = local_settings.clone();
        settings.flash_attention = flash_attention;
        let provider = if flash_attention {
            provider.clone()
        } else {
            Arc::new(LocalProvider::load(settings.clone()).unwrap())
        };
        println!(
            "  parallel agents, flash attention {}:",
            if flash_attention {
                "on (the default)"
            } else {
                "off"
            }
        );
        let mut single = 0.0;
        let mut bare_single = 0.0;
        for agents in 1..=3 {
            let mut rates = vec![];
            let mut bare_rates = vec![];
            let mut window = Duration::ZERO;
            for _ in 0..runs {
                bare_rates.push(bare_batched(&model, &settings, &req, agents));
                let traces = full(&runtime, provider.clone(), &engine, agents);
                let (rate, w) = aggregate_rate(&traces);
                rates.push(rate);
                window = w;
            }
            let (rate, bare_rate) = (median(rates), median(bare_rates));
            if agents == 1 {
                single = rate;
                bare_single = bare_rate;
            }
            println!(
                "    {agents} agent(s): {rate:>6.1} tok/s aggregate ({:.2}x one agent; window {:.1} s)   bare batched decode {bare_rate:>6.1} tok/s ({:.2}x)",
                rate / single,
                window.as_secs_f64(),
                bare_rate / bare_single,
            );
        }
    }
}
