"""El Jefe's engine against LangGraph, scenario by scenario, alternating the two in one run so the
machine's mood affects both alike. Called by scripts/bench-vs-langgraph.sh, which installs
LangGraph and builds the engine benchmark.

    python compare.py <engine_overhead executable> <python with langgraph> <runs>
"""

import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCENARIOS = ("linear", "fanout-one-by-one")


def run(command: list[str]) -> tuple[float, int, float]:
    """elapsed_us, events, peak_rss_mib: the last line each scenario prints."""
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    fields = out.strip().splitlines()[-1].split()
    if len(fields) == 4:  # engine_overhead: elapsed_us deltas events rss
        return float(fields[0]), int(fields[2]), float(fields[3])
    return float(fields[0]), int(fields[1]), float(fields[2])


def main() -> None:
    engine, python, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    contenders = {
        "el-jefe": lambda s: [engine, "--scenario", s],
        "langgraph-model": lambda s: [python, str(HERE / "scenarios.py"), s],
        "langgraph-writer": lambda s: [python, str(HERE / "scenarios.py"), s, "--writer"],
    }
    results = {(c, s): [] for c in contenders for s in SCENARIOS}
    for i in range(runs):
        for scenario in SCENARIOS:
            for name, command in contenders.items():
                results[(name, scenario)].append(run(command(scenario)))
        print(f"  run {i + 1} of {runs} done", file=sys.stderr)

    def median(name: str, scenario: str, what: str) -> float:
        rows = results[(name, scenario)]
        if what == "us_per_step":
            return statistics.median(r[0] / 1000 for r in rows)
        if what == "events_per_s":
            return statistics.median(r[1] / (r[0] / 1e6) for r in rows)
        return max(r[2] for r in rows)

    step = {n: median(n, "linear", "us_per_step") for n in contenders}
    events = {n: median(n, "fanout-one-by-one", "events_per_s") for n in contenders}
    rss = {n: median(n, "linear", "rss") for n in contenders}
    print(f"median of {runs} runs, alternating, one process per run")
    print(f"{'':34}{'El Jefe':>12}{'LangGraph':>12}{'LangGraph':>12}")
    print(f"{'':34}{'':>12}{'chat model':>12}{'writer':>12}")
    print(
        f"{'1,000-step chain, us per step':34}"
        f"{step['el-jefe']:>12.1f}{step['langgraph-model']:>12.1f}{step['langgraph-writer']:>12.1f}"
    )
    print(
        f"{'fan-out, events/s (1 per delta)':34}"
        f"{events['el-jefe']:>12,.0f}{events['langgraph-model']:>12,.0f}{events['langgraph-writer']:>12,.0f}"
    )
    print(
        f"{'peak RSS of the chain, MiB':34}"
        f"{rss['el-jefe']:>12.1f}{rss['langgraph-model']:>12.1f}{rss['langgraph-writer']:>12.1f}"
    )
    per_step = step["langgraph-writer"] / step["el-jefe"]
    per_step_model = step["langgraph-model"] / step["el-jefe"]
    per_event = events["el-jefe"] / events["langgraph-model"]
    per_event_writer = events["el-jefe"] / events["langgraph-writer"]
    verdict = lambda ok: "met" if ok else "MISSED"
    print()
    print(
        f"per step: {per_step:.1f}x LangGraph's plain nodes, {per_step_model:.1f}x with a chat "
        f"model (target 10x): {verdict(per_step >= 10)}"
    )
    print(
        f"events/s: {per_event:.0f}x LangGraph streaming a chat model, {per_event_writer:.0f}x "
        f"its stream writer (target 100x): {verdict(per_event >= 100)}"
    )
    print(f"memory: {rss['el-jefe']:.1f} MiB (target at most 20): {verdict(rss['el-jefe'] <= 20)}")


if __name__ == "__main__":
    main()
