//! `/metrics` in the OpenMetrics text format that Prometheus scrapes: sessions by status, agents
//! running, tokens, calls, errors and clients, read from the board when asked.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

use super::board::Totals;
use super::client_counts::ClientNumbers;

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The server's numbers now. Counters are sums over the sessions on disk, so they only fall
/// when sessions are deleted (`el-jefe clean`), which Prometheus reads as a counter reset.
pub fn render(totals: &Totals, clients: ClientNumbers) -> String {
    let mut registry = Registry::with_prefix("el_jefe");

    let sessions = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
    for (status, count) in &totals.sessions {
        sessions
            .get_or_create(&vec![("status", status.label())])
            .set(*count as i64);
    }
    registry.register("sessions", "Sessions by status", sessions);
    registry.register(
        "agents_running",
        "Agents generating or calling tools now",
        ConstGauge::new(totals.agents_running as i64),
    );
    registry.register(
        "clients_connected",
        "Clients connected to the server now",
        ConstGauge::new(clients.connected as i64),
    );
    registry.register(
        "client_resyncs",
        "Times a client fell behind the live stream and was caught up from the journal",
        ConstCounter::new(clients.resyncs),
    );
    registry.register(
        "clients_dropped_slow",
        "Clients let go for falling behind too often or not reading",
        ConstCounter::new(clients.dropped_slow),
    );
    let tokens = Family::<Vec<(&'static str, &'static str)>, Counter>::default();
    // A fresh family each time: adding to zero sets the value.
    tokens
        .get_or_create(&vec![("direction", "input")])
        .inc_by(totals.input_tokens);
    tokens
        .get_or_create(&vec![("direction", "output")])
        .inc_by(totals.output_tokens);
    registry.register("tokens", "Tokens sent to and received from models", tokens);
    registry.register(
        "api_calls",
        "Calls to model providers",
        ConstCounter::new(totals.api_calls),
    );
    registry.register(
        "tool_calls",
        "Tool calls made by agents",
        ConstCounter::new(totals.tool_calls),
    );
    registry.register(
        "errors",
        "Failed calls and other agent errors",
        ConstCounter::new(totals.errors),
    );

    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}
