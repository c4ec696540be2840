//! `el-jefe serve` under load, on a scripted provider (no model). The server runs in a child
//! process of its own, so its CPU time and memory are its own; the clients are real WebSocket
//! clients of the protocol in this process, parsing every message.
//!
//! - fan-out: 50 agents each streaming 100 tokens/s, watched by 20 clients: the latency of each
//!   event from the engine's timestamp to each client, and the server's CPU;
//! - one client at full speed: a zero-delay provider, events/s delivered live, and the same
//!   session read back from the journal by a client subscribing afterwards (catch-up);
//! - idle clients: the server's memory with 500 connected, subscribed clients, per client.
//!
//!     cargo bench --bench serve_fanout

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

// The allocator the product runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/scripted.rs"]
#[allow(dead_code)]
mod scripted;

#[path = "support/engine_settings.rs"]
mod engine_settings;

#[path = "support/server_child.rs"]
#[allow(dead_code)]
mod server_child;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use el_jefe::protocol::ServerMessage;
use el_jefe::session::event::Event;
use futures::SinkExt;
use server_child::{ServerChild, Socket, child, connect, next, start_session};
use tokio_tungstenite::tungstenite::Message;

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// Reads until the session completes: each event's latency in µs, and the number of events.
async fn watch(mut socket: Socket) -> (Vec<i64>, u64, Duration) {
    let mut latencies = Vec::new();
    let mut events = 0;
    let mut first: Option<Instant> = None;
    loop {
        if let ServerMessage::Events { events: batch } = next(&mut socket).await {
            let arrived = now_us();
            first.get_or_insert_with(Instant::now);
            for e in batch.iter() {
                events += 1;
                // at_ms is whole milliseconds: latencies read up to 1 ms high.
                latencies.push(arrived - e.at_ms * 1000);
                if matches!(e.event, Event::SessionCompleted) {
                    return (latencies, events, first.unwrap().elapsed());
                }
            }
        }
    }
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize] as f64 / 1000.0
}

fn fan_out(chunks: usize) {
    let server = ServerChild::start(10, chunks, false);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (latencies, seconds, cpu) = runtime.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..20 {
            clients.push(connect(server.port, &server.token).await);
        }
        let cpu_before = server.cpu();
        let started = Instant::now();
        start_session(&mut clients[0], 50).await;
        let watchers: Vec<_> = clients
            .into_iter()
            .map(|c| tokio::spawn(watch(c)))
            .collect();
        let mut all = Vec::new();
        for w in watchers {
            all.extend(w.await.unwrap().0);
        }
        let wall = started.elapsed();
        (
            all,
            wall.as_secs_f64(),
            (server.cpu() - cpu_before).as_secs_f64(),
        )
    });
    let mut sorted = latencies;
    sorted.sort_unstable();
    println!(
        "  fan-out: 50 agents x 100 tok/s, 20 clients: {} events delivered in {seconds:.1} s; \
         latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; server CPU {:.0} % of one core",
        sorted.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        percentile(&sorted, 1.0),
        100.0 * cpu / seconds
    );
}

fn full_speed(chunks: usize) {
    let server = ServerChild::start(0, chunks, true);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut client = connect(server.port, &server.token).await;
        start_session(&mut client, 50).await;
        let (_, live, took) = watch(client).await;
        // Afterwards: the whole session from the journal, as a reconnecting client reads it.
        let mut late =
            tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/api/v1/ws", server.port))
                .await
                .unwrap()
                .0;
        let hello = serde_json::json!({"type": "hello", "protocol": {"major": 1, "minor": 0},
            "client": "bench", "token": server.token});
        late.send(Message::text(hello.to_string())).await.unwrap();
        let _welcome = next(&mut late).await;
        let started = Instant::now();
        late.send(Message::text(r#"{"type":"subscribe"}"#))
            .await
            .unwrap();
        let mut caught = 0u64;
        loop {
            match next(&mut late).await {
                ServerMessage::Events { events } => caught += events.len() as u64,
                ServerMessage::CaughtUp { .. } => break,
                _ => {}
            }
        }
        let catch_up = started.elapsed();
        println!(
            "  one client, zero-delay provider, 50 agents: {live} events live at {:.0} events/s; \
             catch-up from the journal: {caught} events at {:.0} events/s",
            live as f64 / took.as_secs_f64(),
            caught as f64 / catch_up.as_secs_f64()
        );
    });
}

fn idle(clients: usize) {
    let server = ServerChild::start(0, 1, false);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // One client first, so what every connection shares is there before measuring.
        let _first = connect(server.port, &server.token).await;
        let before = server.rss_kib();
        let mut held = Vec::new();
        for _ in 0..clients {
            held.push(connect(server.port, &server.token).await);
        }
        let after = server.rss_kib();
        println!(
            "  idle: {clients} subscribed clients add {:.1} MiB to the server: {:.1} KiB each",
            (after - before) / 1024.0,
            (after - before) / clients as f64
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        return child(
            args[i + 1].parse().unwrap(),
            args[i + 2].parse().unwrap(),
            args[i + 3].parse().unwrap(),
        );
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: one quick pass then.
    let full = args.iter().any(|a| a == "--bench");
    println!("el-jefe serve under load (server in its own process, real WebSocket clients):");
    // 100 tokens/s for 10 s per agent, or 1 s in the quick pass.
    fan_out(if full { 1000 } else { 100 });
    full_speed(if full { 4000 } else { 200 });
    idle(if full { 500 } else { 20 });
}
