"""The engine_overhead scenarios written for LangGraph, so both run side by side on one machine.

Each agent step becomes a graph node that calls a chat model, which streams its reply in pieces
(a zero-delay model, as El Jefe's benchmark uses a zero-delay provider), and returns the reply
into the state. The consumer reads the pieces with stream_mode="messages", the way LangGraph
streams an agent's tokens. With "--writer", nodes skip the chat model and push pieces through
the stream writer (stream_mode="custom"): LangGraph's own floor, no model machinery at all.

  linear             a 1,000-node chain, 3 pieces per node           -> microseconds per step
  fanout-one-by-one  100 parallel nodes, 199 pieces each, yielding
                     to the event loop between pieces (as a network
                     stream does)                                    -> events per second

Run one scenario per process (peak memory is the scenario's own):
    python scenarios.py linear [--writer]
prints: elapsed_us events peak_rss_mib
"""

import asyncio
import operator
import resource
import sys
import time
from typing import Annotated, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    outputs: Annotated[list, operator.add]


class PieceModel(BaseChatModel):
    """A chat model that answers at once, in `pieces` streamed chunks."""

    pieces: int
    yield_between: bool

    @property
    def _llm_type(self) -> str:
        return "pieces"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        text = "".join(f"w{i} " for i in range(self.pieces))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        for i in range(self.pieces):
            if self.yield_between and i > 0:
                await asyncio.sleep(0)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=f"w{i} "))
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


def model_node(step: int, pieces: int, yield_between: bool):
    model = PieceModel(pieces=pieces, yield_between=yield_between)

    async def node(state: State) -> dict:
        reply = await model.ainvoke([HumanMessage(content=f"task {step}")])
        return {"outputs": [reply.content]}

    return node


def writer_node(step: int, pieces: int, yield_between: bool):
    async def node(state: State) -> dict:
        write = get_stream_writer()
        text = []
        for i in range(pieces):
            if yield_between and i > 0:
                await asyncio.sleep(0)
            piece = f"w{i} "
            write({"step": step, "text": piece})
            text.append(piece)
        return {"outputs": ["".join(text)]}

    return node


def linear(steps: int, pieces: int, node):
    graph = StateGraph(State)
    previous = START
    for step in range(steps):
        name = f"step_{step}"
        graph.add_node(name, node(step, pieces, False))
        graph.add_edge(previous, name)
        previous = name
    graph.add_edge(previous, END)
    return graph.compile()


def fanout(branches: int, pieces: int, node):
    graph = StateGraph(State)
    for step in range(branches):
        name = f"step_{step}"
        graph.add_node(name, node(step, pieces, True))
        graph.add_edge(START, name)
        graph.add_edge(name, END)
    return graph.compile()


async def run(graph, mode: str) -> int:
    events = 0
    config = {"recursion_limit": 1_000_000}
    async for _ in graph.astream({"outputs": []}, config=config, stream_mode=mode):
        events += 1
    return events


def main() -> None:
    scenario = sys.argv[1]
    writer = "--writer" in sys.argv[2:]
    node, mode = (writer_node, "custom") if writer else (model_node, "messages")
    if scenario == "linear":
        graph = linear(1000, 3, node)
    elif scenario == "fanout-one-by-one":
        graph = fanout(100, 199, node)
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    started = time.perf_counter()
    events = asyncio.run(run(graph, mode))
    elapsed_us = (time.perf_counter() - started) * 1e6
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed_us:.0f} {events} {peak_mib:.1f}")


if __name__ == "__main__":
    main()
