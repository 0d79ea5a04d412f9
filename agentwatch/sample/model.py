"""The in-memory session model every sample writer reads, and the builder that scripts sessions.

A `Session` holds its events as plain dicts keyed by canonical field names (see DESIGN.md), with `ts`
as integer milliseconds since the epoch and `tool_args`/`attrs` as Python objects; fields that are
null are absent. Session-level fields (agent, session, parent, trace) live on the `Session`, so a
writer for another format (OTLP/JSON, Claude Code transcripts) reads the same objects.

Span layout (for OTel-shaped writers): the session is one root span; each model turn (reasoning +
response) is a child span; each tool execution (call, approval, result) is a child span; a spawned
sub-agent's root span is the child of the parent's `agent_spawn` span, inside the same trace.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from agentwatch.sample.signing import Keyring

CHARS_PER_TOKEN = 4
PROVIDER_ERROR_RATE = 0.004  # model calls that first fail with a rate limit and are retried
PROVIDER_ERROR = "rate_limit_error: 429 Too Many Requests; retrying in 2s"


@dataclass(slots=True)
class Session:
    """One agent run: its events, its place in a delegation tree, and its ground-truth label."""

    agent_id: str
    session_id: str
    trace_id: str
    root_span_id: str
    parent_session_id: str | None = None
    parent_span_id: str | None = None
    label: int = 0
    scenario: str = "normal"
    events: list[dict[str, Any]] = field(default_factory=list)
    children: list[Session] = field(default_factory=list)

    def walk(self):
        """This session, then its descendants depth-first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class Context:
    """What a session script may draw on: randomness, its agent, the signing keys, its human."""

    rng: random.Random
    agent: Any  # fleet.AgentSpec
    keyring: Keyring
    human: str
    vendors: tuple = ()  # entities.Vendor, the suppliers the mail assistant pays


def new_uuid(rng: random.Random) -> str:
    """A uuid4-shaped id drawn from a seeded generator."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


class SessionBuilder:
    """Appends events to one session while advancing its clock; scripts read like the session."""

    def __init__(self, ctx: Context, session: Session, start_ms: int, context_tokens: int = 900):
        self.ctx = ctx
        self.rng = ctx.rng
        self.session = session
        self.clock = start_ms
        self.seq = 0
        self.context_tokens = context_tokens  # the system prompt and tool schemas
        self.dark = False  # when set, only prompts and tool calls reach the log
        self._pending_thought = ""
        self._call_prefix = "toolu_" if ctx.agent.model.startswith("claude") else "call_"

    # -- time -----------------------------------------------------------------------------
    def wait(self, low: float, high: float) -> None:
        """Let between `low` and `high` seconds pass."""
        self.clock += int(1000 * (low + (high - low) * self.rng.random()))

    # -- events ---------------------------------------------------------------------------
    def _emit(self, event_type: str, span: str, parent: str | None, fields: dict[str, Any]) -> None:
        self.seq += 1
        event = {"seq": self.seq, "ts": self.clock, "event_type": event_type, "span_id": span}
        if parent is not None:
            event["parent_span_id"] = parent
        event.update(fields)
        self.session.events.append(event)

    def _span(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def prompt(self, text: str, actor: str | None = "") -> None:
        """A human (the session's, unless named; None for a delegating agent) gives the task."""
        if self.seq:
            self.wait(2, 40)
        who = self.ctx.human if actor == "" else actor
        fields = {"text": text} if who is None else {"actor": who, "text": text}
        self._emit("user_prompt", self.session.root_span_id, self.session.parent_span_id, fields)
        self.context_tokens += len(text) // CHARS_PER_TOKEN + 8

    def think(self, text: str) -> None:
        """Reasoning the model logs before its next response."""
        self._pending_thought = text

    def _turn(self, text: str | None, extra_out: int) -> None:
        """One model turn: reasoning (if any) and a response with token usage, in their own span."""
        span = self._span()
        root = self.session.root_span_id
        thought, self._pending_thought = self._pending_thought, ""
        if self.dark:
            self.wait(1.2, 2.5 + (len(thought) + len(text or "")) / 120)
            return
        model = self.ctx.agent.model
        if self.rng.random() < PROVIDER_ERROR_RATE:
            self.wait(0.2, 1)
            self._emit("error", span, root, {"model": model, "status": "error", "text": PROVIDER_ERROR})
        self.wait(0.6, 1.5 + len(thought) / 200)
        if thought:
            self._emit("reasoning", span, root, {"model": model, "text": thought})
        self.wait(0.4, 1 + len(text or "") / 150)
        out = (len(thought) + len(text or "")) // CHARS_PER_TOKEN + extra_out + 4 + int(36 * self.rng.random())
        fields = {"model": model, "input_tokens": self.context_tokens, "output_tokens": out}
        if text:
            fields["text"] = text
        self._emit("llm_response", span, root, fields)
        self.context_tokens += out

    def say(self, text: str) -> None:
        """The model answers in words (no tool call)."""
        self._turn(text, 0)
        self.context_tokens += len(text) // CHARS_PER_TOKEN

    def tool(
        self,
        name: str,
        args: dict[str, Any],
        result: str | None,
        *,
        status: str = "ok",
        approval: str | None = None,
        secs: tuple[float, float] = (0.2, 3.0),
        say: str | None = None,
    ) -> str:
        """The model calls a tool; optionally a human approves it; the tool returns `result`."""
        self._turn(say, len(str(args)) // CHARS_PER_TOKEN + 12)
        span = self._span()
        call_id = f"{self._call_prefix}{self.rng.getrandbits(96):024x}"
        root = self.session.root_span_id
        fields = {"model": self.ctx.agent.model, "tool_name": name, "tool_call_id": call_id, "tool_args": args}
        self.clock += 5 + int(55 * self.rng.random())
        self._emit("tool_call", span, root, fields)
        if approval is not None:
            self._approve(span, name, call_id, args, approval)
        self.wait(*secs)
        if result is not None and not self.dark:
            fields = {"tool_name": name, "tool_call_id": call_id, "text": result, "status": status}
            self._emit("tool_result", span, root, fields)
            self.context_tokens += len(result) // CHARS_PER_TOKEN + 6
        return call_id

    def _approve(self, span: str, name: str, call_id: str, args: dict, mode: str) -> None:
        """An approval event: `valid`, `forged` (someone else's key) or `replayed` (other summary)."""
        self.wait(15, 240)
        approver, key_id = self.rng.choice(self.ctx.agent.approvers)
        summary = summarize_action(name, args)
        signature = self.ctx.keyring.sign(key_id, summary, mode)
        attrs = {"summary": summary, "signature": signature, "key_id": key_id}
        fields = {"actor": approver, "tool_name": name, "tool_call_id": call_id, "attrs": attrs}
        self._emit("approval", span, self.session.root_span_id, fields)

    def spawn(self, task: str, session_id: str) -> SessionBuilder:
        """Delegate `task` to a sub-agent session that starts shortly after; returns its builder."""
        self._turn(None, len(task) // CHARS_PER_TOKEN)
        span = self._span()
        attrs = {"child_session_id": session_id}
        self._emit("agent_spawn", span, self.session.root_span_id, {"text": task, "attrs": attrs})
        parent = self.session
        child = Session(
            agent_id=parent.agent_id,
            session_id=session_id,
            trace_id=parent.trace_id,
            root_span_id=self._span(),
            parent_session_id=parent.session_id,
            parent_span_id=span,
            label=parent.label,
            scenario=parent.scenario,
        )
        parent.children.append(child)
        builder = SessionBuilder(self.ctx, child, self.clock + self.rng.randrange(300, 3000))
        builder.dark = self.dark
        builder.prompt(task, actor=None)
        self.wait(0.5, 4)
        return builder


    def join(self, children: list[SessionBuilder]) -> None:
        """Wait until these sub-agents have finished."""
        self.clock = max([self.clock] + [child.clock for child in children])
        self.wait(0.2, 2)


def summarize_action(name: str, args: dict[str, Any]) -> str:
    """The text a human signs to confirm a call: the tool and every argument, in order."""
    parts = ", ".join(f"{key}={value}" for key, value in args.items())
    return f"{name}({parts})"
