// El Jefe's web dashboard: a client of the protocol in docs/PROTOCOL.md, like the terminal
// dashboard. It folds each session's events into its state and draws only what changed, at
// most FPS times a second, so fifty agents streaming at once stay smooth.
'use strict';

const PROTOCOL = { major: 1, minor: 0 };
const FRAME_MS = 1000 / 30;
const STREAM_CHARS = 40000; // kept in an agent's pane; older text scrolls away
const RATE_POINTS = 60; // one a second
const COLORS = ['#4fa3ff', '#3fb950', '#d29922', '#f85149', '#a371f7', '#39c5cf', '#ff7b72',
  '#e3b341', '#56d364', '#79c0ff', '#d2a8ff', '#ffa657'];
const STATUS_COLORS = { pending: '#56606b', running: '#4fa3ff', paused: '#a371f7',
  completed: '#3fb950', failed: '#f85149', interrupted: '#d29922' };

const $ = (id) => document.getElementById(id);
// Writes that change nothing still cost the browser a style and layout pass: skip them.
const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
const setOff = (button, off) => { if (button.disabled !== off) button.disabled = off; };
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

// ---- State: sessions folded from their events -------------------------------------------

const app = {
  sessions: new Map(),
  selected: null,
  me: null,
  role: null,
  socket: null,
  nextId: 1,
  pending: new Map(), // command id -> label
  dirtyList: new Set(),
  dirtySession: true,
  frameQueued: false,
  lastFrame: 0,
  retryMs: 500,
  holeFilling: false,
  caughtUpOnce: false,
  schedules: [],
  dirtySchedules: false,
  // Render times, for the browser benchmark (docs/PERFORMANCE.md).
  frameTimes: [],
  // Every event folded, per session: what replay plays back.
  journal: new Map(),
  // Replay of the selected session: { id, pos, state, playing, speed, clock, timer }, or null.
  replay: null,
  capabilities: [],
  // What the main pane shows: 'session', 'analytics' or 'compare'.
  view: 'session',
  // The compare view's two sessions: [A, B].
  compared: null,
};
window.elJefe = app;

function newSession(id) {
  return { id, goal: '', status: 'starting', steps: new Map(), order: [], createdMs: 0,
    runStartMs: null, endedMs: null, lastSeq: 0, approvals: new Map(), tokensIn: 0,
    tokensOut: 0, calls: 0, errors: 0, paused: false, steered: null, note: '', model: '',
    maxParallel: 1, hasPlan: false, rates: new Map() };
}

function newStep(spec) {
  return { id: spec.id, title: spec.title, agent: spec.agent, task: spec.task,
    deps: spec.depends_on || [], status: 'pending', text: '', appended: '', reset: true,
    tools: [], callTokens: 0, liveTokens: 0, produced: 0, startedMs: null, endedMs: null,
    queuedOn: null, waiting: null, steered: null, note: '', error: null };
}

function steeredBy(action, by) { return by ? { action, by } : null; }

function words(status, steered) {
  if (!steered) return status;
  return steered.action === status ? `${status} by ${steered.by}` : `${status} (${steered.action} by ${steered.by})`;
}

function titleFromTask(task) {
  const w = task.split(/\s+/).filter(Boolean);
  return w.slice(0, 6).join(' ') + (w.length > 6 ? '…' : '');
}

function setPlan(s, steps) {
  const old = s.steps;
  s.steps = new Map();
  s.order = [];
  for (const spec of steps) {
    const kept = old.get(spec.id);
    const step = kept || newStep(spec);
    Object.assign(step, { title: spec.title, agent: spec.agent, task: spec.task, deps: spec.depends_on || [] });
    s.steps.set(spec.id, step);
    s.order.push(spec.id);
  }
  s.hasPlan = true;
}

function planOf(s) {
  return s.order.map((id) => { const st = s.steps.get(id); return { id, title: st.title, agent: st.agent, task: st.task, depends_on: st.deps }; });
}

// The same reshaping as the engine's (src/session/plan_edit.rs), for edits others make.
function reshape(plan, edit) {
  let steps = plan.map((s) => ({ ...s, depends_on: [...s.depends_on] }));
  const find = (id) => steps.find((s) => s.id === id);
  switch (edit.edit) {
    case 'add_step': steps.push(edit.step); break;
    case 'remove_step': {
      const gone = new Set([edit.step]);
      if (edit.dependents === 'remove') {
        let grew = true;
        while (grew) {
          grew = false;
          for (const s of steps) if (!gone.has(s.id) && s.depends_on.some((d) => gone.has(d))) { gone.add(s.id); grew = true; }
        }
      }
      const inherited = (plan.find((s) => s.id === edit.step) || { depends_on: [] }).depends_on;
      steps = steps.filter((s) => !gone.has(s.id));
      for (const s of steps) {
        const at = s.depends_on.indexOf(edit.step);
        if (at >= 0) {
          s.depends_on.splice(at, 1);
          for (const d of inherited) if (!s.depends_on.includes(d)) s.depends_on.push(d);
        }
      }
      break;
    }
    case 'change_task': { const s = find(edit.step); if (s) { s.task = edit.task; s.title = titleFromTask(edit.task); } break; }
    case 'change_agent': { const s = find(edit.step); if (s) s.agent = edit.agent; break; }
    case 'set_dependencies': { const s = find(edit.step); if (s) s.depends_on = [...edit.depends_on]; break; }
    default: break;
  }
  return steps;
}

function endStep(step, status, at) {
  step.status = status;
  step.endedMs = at;
  step.waiting = null;
  step.queuedOn = null;
  step.callTokens += step.liveTokens;
  step.liveTokens = 0;
}

function fold(env) {
  let s = app.sessions.get(env.session);
  if (!s) { s = newSession(env.session); app.sessions.set(env.session, s); }
  s.lastSeq = Math.max(s.lastSeq, env.seq);
  const e = env.event;
  const at = env.at_ms;
  const step = e.step !== undefined && e.step !== null ? s.steps.get(e.step) : null;
  switch (e.type) {
    case 'session_created':
      Object.assign(s, { goal: e.goal, status: 'starting', createdMs: at, model: `${e.provider} ${e.model}`,
        maxParallel: e.max_parallel, steered: steeredBy('started', env.by), origin: e.origin || null });
      break;
    case 'planning_started': s.note = e.attempt > 1 ? `planning again (attempt ${e.attempt})` : 'planning'; break;
    case 'plan_rejected': s.note = `plan rejected: ${e.error}`; break;
    case 'plan_ready':
      setPlan(s, e.plan.steps);
      s.note = e.source === 'default' ? 'the planner failed; running the default plan' : '';
      s.status = s.paused ? 'paused' : 'running';
      s.runStartMs = s.runStartMs || at;
      break;
    case 'warning': if (step) step.note = e.message; else s.note = e.message; break;
    case 'step_started':
      if (!step) break;
      Object.assign(step, { status: 'running', startedMs: at, endedMs: null, waiting: null, queuedOn: null,
        error: null, note: '', liveTokens: 0, callTokens: 0, steered: null });
      step.text = ''; step.appended = ''; step.reset = true;
      if (!e.continues) step.tools = [];
      break;
    case 'text_delta':
      if (!step) break;
      step.text += e.text;
      step.appended += e.text;
      step.liveTokens += e.chunks || 1;
      step.produced += e.chunks || 1;
      if (step.text.length > 2 * STREAM_CHARS) { step.text = step.text.slice(-STREAM_CHARS); step.reset = true; step.appended = ''; }
      break;
    case 'call_finished':
      s.tokensIn += e.call.input_tokens; s.tokensOut += e.call.output_tokens; s.calls += 1;
      if (step) { step.callTokens += e.call.input_tokens + e.call.output_tokens; step.liveTokens = 0; }
      break;
    case 'call_failed': s.errors += 1; if (step) step.note = `call failed: ${e.error}`; break;
    case 'call_queued': if (step) step.queuedOn = `${e.provider} (at most ${e.limit} at once)`; break;
    case 'call_dequeued': if (step) step.queuedOn = null; break;
    case 'call_retry': if (step) step.note = `retrying: ${e.retry.error}`; break;
    case 'call_failover': if (step) step.note = `failing over: ${e.failover.error}`; break;
    case 'tool_call_requested':
      if (step) step.tools.push({ id: e.call.id, name: e.call.name, args: JSON.stringify(e.call.arguments), status: 'running', summary: '' });
      break;
    case 'approval_requested':
      s.approvals.set(e.call_id, { step: e.step, tool: e.tool, detail: e.detail });
      if (step) { step.waiting = `your approval of ${e.tool}`; markTool(step, e.call_id, 'waiting', 'waits for approval'); }
      break;
    case 'approval_decided':
      s.approvals.delete(e.call_id);
      if (step) {
        step.waiting = null;
        const t = step.tools.find((x) => x.id === e.call_id);
        const decided = `${e.decision.decision.replace(/_/g, ' ')}${env.by ? ` by ${env.by}` : ''}`;
        if (t) { t.decision = decided; t.status = e.decision.decision === 'deny' ? 'denied' : 'running'; t.summary = ''; }
      }
      break;
    case 'tool_call_finished':
      if (step) markTool(step, e.call_id, e.status, `${e.summary} (${e.duration_ms} ms)`);
      break;
    case 'step_paused':
      if (step && step.status === 'running') step.status = 'paused';
      if (step) step.steered = steeredBy('paused', env.by);
      break;
    case 'step_resumed':
      if (step && step.status === 'paused') step.status = 'running';
      if (step) step.steered = steeredBy('resumed', env.by);
      break;
    case 'step_completed':
      if (!step) break;
      endStep(step, 'completed', at);
      if (!step.text && e.output) { step.text = e.output; step.reset = true; }
      step.steered = null;
      break;
    case 'step_failed': if (step) { endStep(step, 'failed', at); step.error = e.error; step.steered = null; } break;
    case 'step_interrupted': if (step) { endStep(step, 'interrupted', at); step.steered = steeredBy('interrupted', env.by); } break;
    case 'step_stalled': if (step) step.note = `no output for ${Math.round(e.idle_ms / 1000)} s`; break;
    case 'step_requeued': if (step) { step.status = 'pending'; step.note = e.reason; } break;
    case 'budget_set': s.note = ''; break;
    case 'budget_reached': s.note = `budget reached: ${e.reason}`; break;
    case 'plan_edited': {
      setPlan(s, reshape(planOf(s), e.edit));
      for (const id of e.stale || []) {
        const st = s.steps.get(id);
        if (st) { Object.assign(st, { status: 'pending', note: 'plan edited: runs again', error: null }); st.text = ''; st.reset = true; st.tools = []; }
      }
      const unfinished = [...s.steps.values()].some((st) => st.status !== 'completed');
      if (s.status === 'completed' && unfinished) s.status = 'edited';
      s.steered = steeredBy('edited', env.by);
      break;
    }
    case 'session_paused': s.paused = true; if (s.status === 'running') s.status = 'paused'; s.steered = steeredBy('paused', env.by); break;
    case 'session_unpaused': s.paused = false; if (s.status === 'paused') s.status = 'running'; s.steered = steeredBy('unpaused', env.by); break;
    case 'session_interrupted':
      for (const st of s.steps.values()) if (st.status === 'running' || st.status === 'paused') endStep(st, 'interrupted', at);
      s.paused = false; s.status = 'interrupted'; s.endedMs = at; s.approvals.clear();
      s.steered = steeredBy('interrupted', env.by);
      if (e.reason === 'recovered') s.note = 'the server stopped while it ran; resume it to go on';
      break;
    case 'session_resumed':
      for (const st of s.steps.values()) if (st.status === 'interrupted' || st.status === 'failed') { st.status = 'pending'; st.error = null; }
      s.paused = false; s.endedMs = null; s.note = ''; s.status = s.hasPlan ? 'running' : 'starting';
      s.runStartMs = s.runStartMs || at;
      s.steered = steeredBy('resumed', env.by);
      break;
    case 'session_completed': s.status = 'completed'; s.endedMs = at; s.steered = null; s.note = ''; break;
    case 'session_failed': s.status = 'failed'; s.endedMs = at; s.note = e.error; s.steered = null; break;
    case 'inherited': {
      // A fork's head: the parent's events it keeps, folded as this session's history at the
      // fork's own time (they take none of its wall time, as in the engine's fold) and with no
      // numbers of their own (the fork's numbering is untouched).
      for (const inner of e.events) fold({ ...inner, session: env.session, seq: 0, at_ms: at });
      for (const st of s.steps.values()) if (st.status === 'completed') st.inherited = true;
      s.forkedFrom = e.parent;
      break;
    }
    default: break; // a newer server's event: ignored, as the protocol asks
  }
  // Text goes straight to its pane; the tables and counts it changes are redrawn once a second.
  if (e.type !== 'text_delta') {
    app.dirtyList.add(s.id);
    if (s.id === app.selected) app.dirtySession = true;
  }
}

function markTool(step, callId, status, summary) {
  const t = step.tools.find((x) => x.id === callId);
  if (t) { t.status = status; t.summary = summary; }
}

// ---- The connection ----------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
  app.socket = socket;
  socket.onopen = () => socket.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL, client: 'el-jefe-web' }));
  socket.onmessage = (m) => onMessage(JSON.parse(m.data));
  socket.onclose = () => {
    app.socket = null;
    for (const [, label] of app.pending) notice(`${label}: the connection broke before the server answered; check before trying again`, true);
    app.pending.clear();
    setLink(`lost the server; reconnecting in ${(app.retryMs / 1000).toFixed(1)} s…`, true);
    setTimeout(connect, app.retryMs);
    app.retryMs = Math.min(app.retryMs * 2, 5000);
  };
}

function subscribe() {
  const from = [...app.sessions.values()].filter((s) => s.lastSeq > 0).map((s) => ({ session: s.id, seq: s.lastSeq }));
  send({ type: 'subscribe', from });
}

function onMessage(m) {
  switch (m.type) {
    case 'welcome':
      app.me = m.user; app.role = m.role; app.retryMs = 500; app.capabilities = m.capabilities || [];
      $('analytics-open').hidden = !app.capabilities.includes('analytics');
      document.body.classList.toggle('viewer', m.role === 'viewer');
      setLink(`${m.user} (${m.role}) · ${m.server}`);
      subscribe();
      break;
    case 'events': {
      let hole = false;
      for (const env of m.events) {
        const s = app.sessions.get(env.session);
        const at = s ? s.lastSeq : 0;
        if (env.seq <= at) continue; // seen already
        if (env.seq > at + 1) { hole = true; continue; } // a hole: subscribe again below
        fold(env);
        let list = app.journal.get(env.session);
        if (!list) { list = []; app.journal.set(env.session, list); }
        list.push(env);
      }
      if (hole && !app.holeFilling) { app.holeFilling = true; subscribe(); }
      // A session started elsewhere while none is shown is shown as it starts.
      if (app.caughtUpOnce) selectNewestIfNone();
      schedule();
      break;
    }
    case 'caught_up':
      app.holeFilling = false;
      app.caughtUpOnce = true;
      selectNewestIfNone();
      schedule();
      break;
    case 'schedules': app.schedules = m.schedules; app.dirtySchedules = true; schedule(); break;
    case 'schedule_answer': {
      const label = app.pending.get(m.id); app.pending.delete(m.id);
      const a = m.answer;
      const what = a.answer === 'fired' ? (a.fired === 'started' ? `started ${a.session}` : a.fired === 'queued' ? 'queued' : `skipped: ${a.reason.reason}`) : 'done';
      if (label) notice(`${label}: ${what}`);
      break;
    }
    case 'ack': { const label = app.pending.get(m.id); app.pending.delete(m.id); if (label) notice(`done: ${label}`); break; }
    case 'rejected': { const label = app.pending.get(m.id) || 'command'; app.pending.delete(m.id); notice(`${label}: ${m.reason}`, true); break; }
    case 'problem': notice(m.message, true); break;
    case 'error': notice(`the server could not use a message: ${m.message}`, true); break;
    case 'bye':
      notice(`the server closed the connection: ${m.reason}`, true);
      // Signed out (a revoked token): the sign-in page says so.
      if (/token|sign/.test(m.reason)) setTimeout(() => location.reload(), 1500);
      break;
    default: break;
  }
}

function send(message) {
  if (!app.socket || app.socket.readyState !== WebSocket.OPEN) return false;
  app.socket.send(JSON.stringify(message));
  return true;
}

function command(label, body) {
  const id = app.nextId++;
  if (!send({ type: 'command', id, command: body })) { notice(`${label}: not connected to the server`, true); return; }
  app.pending.set(id, label);
  notice(`${label}…`);
}

function changeSchedule(label, change) {
  const id = app.nextId++;
  if (!send({ type: 'schedule', id, change })) { notice(`${label}: not connected to the server`, true); return; }
  app.pending.set(id, label);
  notice(`${label}…`);
}

function setLink(text, bad) { const l = $('link'); l.textContent = text; l.classList.toggle('problem', !!bad); }

let noticeTimer = null;
function notice(text, bad) {
  const n = $('notice');
  n.textContent = text;
  n.classList.toggle('bad', !!bad);
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { n.textContent = ''; }, bad ? 12000 : 4000);
}

// ---- Drawing: only what changed, at most FPS times a second --------------------------------

function schedule() {
  if (app.frameQueued) return;
  app.frameQueued = true;
  requestAnimationFrame(nextFrame);
}

// Frames follow the screen's refresh but at most FPS a second: a refresh that comes too soon
// after the last frame waits for the next one.
function nextFrame(now) {
  if (now - app.lastFrame < FRAME_MS - 4) requestAnimationFrame(nextFrame);
  else render();
}

function render() {
  const t0 = performance.now();
  app.frameQueued = false;
  app.lastFrame = t0;
  renderList();
  if (app.dirtySchedules) { renderSchedules(); app.dirtySchedules = false; }
  const s = app.view === 'session' ? shownSession() : null;
  $('empty').hidden = !!s || app.view !== 'session';
  $('session').hidden = !s;
  $('analytics').hidden = app.view !== 'analytics';
  $('compare').hidden = app.view !== 'compare';
  $('replay-bar').hidden = !app.replay || app.view !== 'session';
  if (app.replay) renderReplayBar();
  if (s && app.dirtySession) { renderSession(s); app.dirtySession = false; }
  if (s) renderStreams(s);
  // Style and layout, which the browser would do right after this callback anyway, done here
  // so that the time recorded is the frame's whole work but painting.
  void document.body.offsetHeight;
  app.frameTimes.push(performance.now() - t0);
  if (app.frameTimes.length > 2000) app.frameTimes.splice(0, 1000);
}

// ---- Schedules: next runs, last outcome, history, and their controls -------------------------

function when(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  const soon = Math.abs(ms - Date.now()) < 6 * 86400000;
  return soon ? d.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

function historyWords(r) {
  const e = r.event || r;
  const by = r.by ? ` by ${r.by}` : '';
  switch (e.type) {
    case 'fired': return `started ${e.session} (${e.cause})${by}`;
    case 'queued': return `queued (${e.cause})`;
    case 'skipped': return `skipped (${e.cause}): ${skipWords(e)}`;
    case 'run_ended': return `${e.session} ${e.outcome.outcome === 'failed' ? `failed: ${e.outcome.error}` : e.outcome.outcome}`;
    default: return `${e.type}${by}`;
  }
}

function skipWords(e) {
  switch (e.reason) {
    case 'paused': return 'the schedule is paused';
    case 'still_running': return `the last run (${e.session}) is still going`;
    case 'queue_full': return `${e.queued} runs already wait`;
    case 'hourly_limit': return `${e.limit} runs in the last hour already`;
    case 'missed_while_down': return `the server was down at ${e.count} time(s) it should have run`;
    case 'missing_variable': return `no value for {{${e.name}}}`;
    case 'refused': return `refused: ${e.message}`;
    default: return e.reason;
  }
}

function renderSchedules() {
  const pane = $('schedules-pane');
  pane.hidden = app.schedules.length === 0;
  $('schedule-count').textContent = `(${app.schedules.length})`;
  const ul = $('schedules');
  // Few schedules, rare changes: drawn whole, keeping open histories open.
  const open = new Set([...ul.querySelectorAll('details[open]')].map((d) => d.dataset.name));
  ul.textContent = '';
  for (const v of app.schedules) {
    const li = el('li', 'schedule');
    const state = v.paused ? 'paused' : v.running.length ? 'running' : 'active';
    const last = v.last_run ? `${when(v.last_run.at_ms)} ${v.last_run.outcome ? (v.last_run.outcome.outcome === 'failed' ? 'failed' : v.last_run.outcome.outcome) : 'running'}` : 'never';
    li.append(el('div', 'schedule-name', v.spec.name), el('div', 'muted', v.when));
    const line = el('div', 'muted');
    line.append(statusSpan(state === 'active' ? 'pending' : state, state), ` · next ${v.next_due_ms ? when(v.next_due_ms) : '–'} · last ${last} · ${v.runs} runs, ${v.skips} skipped`);
    li.append(line);
    const controls = el('div', 'operator-only');
    const b = (label, title, change) => { const btn = el('button', 'quiet', label); btn.title = title; btn.onclick = () => changeSchedule(`${label.toLowerCase()} ${v.spec.name}`, change); return btn; };
    if (v.paused) controls.append(b('Resume', 'Fire again from now on', { change: 'resume', name: v.spec.name }));
    else controls.append(b('Pause', 'Stop firing until resumed', { change: 'pause', name: v.spec.name }));
    controls.append(b('Run now', 'Fire once now, whatever the policies say', { change: 'run_now', name: v.spec.name }));
    li.append(controls);
    const details = el('details');
    details.dataset.name = v.spec.name;
    if (open.has(v.spec.name)) details.open = true;
    details.append(el('summary', 'muted', 'history'));
    const list = el('ol', 'history');
    for (const r of [...v.history].reverse()) list.append(el('li', '', `${when(r.at_ms)} ${historyWords(r)}`));
    details.append(list);
    li.append(details);
    ul.append(li);
  }
}

function sortedSessions() { return [...app.sessions.values()].sort((a, b) => (a.id < b.id ? 1 : -1)); }

const listRows = new Map();
function renderList() {
  if (app.dirtyList.size === 0) return;
  const ul = $('sessions');
  let added = false;
  for (const id of app.dirtyList) {
    const s = app.sessions.get(id);
    let li = listRows.get(id);
    if (!li) {
      li = el('li'); li.dataset.id = id;
      li.append(el('span', 'goal'), el('span', 'facts'));
      li.onclick = () => select(id);
      listRows.set(id, li); added = true;
    }
    li.firstChild.textContent = `${s.forkedFrom ? 'Fork: ' : ''}${s.goal || id}`;
    li.lastChild.textContent = '';
    li.lastChild.append(statusSpan(s.status, words(s.status, s.steered)), ` · ${s.steps.size} steps · ${fmt(s.tokensIn + s.tokensOut)} tokens${s.origin ? ` · by schedule ${s.origin.schedule}` : ''}`);
    li.classList.toggle('selected', id === app.selected);
  }
  if (added) for (const s of sortedSessions()) ul.append(listRows.get(s.id));
  app.dirtyList.clear();
  $('session-count').textContent = `(${app.sessions.size})`;
}

function selectNewestIfNone() {
  if (app.selected) return;
  const newest = sortedSessions()[0];
  if (newest) select(newest.id);
}

function select(id) {
  // Choosing another session ends the replay of this one.
  if (app.replay && app.replay.id !== id) leaveReplay();
  const before = app.selected;
  app.selected = id;
  app.view = 'session';
  for (const [rid, li] of listRows) li.classList.toggle('selected', rid === id);
  if (before !== id) clearSessionView();
  app.dirtySession = true;
  schedule();
}

// The session pane's cached rows and panes, dropped when what it shows is replaced.
function clearSessionView() {
  $('streams').textContent = ''; paneSeen.disconnect(); streamPanes.clear(); stepRows.clear();
  $('steps').tBodies[0].textContent = '';
}

// ---- Replay: the selected session as it stood at any of its events ---------------------------

// What the session pane shows: the replayed moment, or the session as it is.
function shownSession() {
  return app.replay ? app.replay.state : app.sessions.get(app.selected);
}

// Moves the replay to just after its first n events, folded apart from the live state (the
// same fold); forward it folds only the new events, backward it starts again from nothing.
function replayTo(n, keepClock) {
  const r = app.replay;
  const events = app.journal.get(r.id) || [];
  n = Math.max(0, Math.min(n, events.length));
  const back = !r.map || n < r.pos;
  if (back) { r.map = new Map(); r.pos = 0; }
  const live = app.sessions;
  app.sessions = r.map;
  try { for (let i = r.pos; i < n; i++) fold(events[i]); } finally { app.sessions = live; }
  r.pos = n;
  r.state = r.map.get(r.id) || newSession(r.id);
  if (back) { clearSessionView(); for (const st of r.state.steps.values()) st.reset = true; }
  if (!keepClock) r.clock = n > 0 ? events[n - 1].at_ms : (events.length ? events[0].at_ms : 0);
  app.dirtySession = true;
  schedule();
}

function enterReplay() {
  const id = app.selected;
  const events = app.journal.get(id);
  if (!id || !events || !events.length) { notice('Nothing to replay yet.', true); return; }
  app.replay = { id, pos: 0, map: null, state: null, playing: false, speed: $('replay-speed').value, clock: 0, timer: null };
  document.body.classList.add('replaying');
  $('replay-bar').hidden = false;
  replayTo(1);
}

function leaveReplay() {
  const r = app.replay;
  if (!r) return;
  if (r.timer) clearInterval(r.timer);
  app.replay = null;
  document.body.classList.remove('replaying');
  $('replay-bar').hidden = true;
  clearSessionView();
  const s = app.sessions.get(app.selected);
  if (s) for (const st of s.steps.values()) st.reset = true;
  app.dirtySession = true;
  schedule();
}

function togglePlay() {
  const r = app.replay;
  const events = app.journal.get(r.id) || [];
  if (r.playing) {
    clearInterval(r.timer); r.timer = null; r.playing = false;
  } else {
    // Play at the end starts over, as a player does.
    if (r.pos >= events.length) replayTo(0);
    r.playing = true;
    let last = performance.now();
    r.timer = setInterval(() => {
      const now = performance.now();
      const elapsed = now - last; last = now;
      let n = r.pos;
      if (r.speed === 'max') n += Math.max(1, Math.ceil(events.length / 300));
      else {
        r.clock += elapsed * Number(r.speed);
        while (n < events.length && events[n].at_ms <= r.clock) n++;
      }
      if (n !== r.pos) replayTo(n, true);
      // At the end of a session still running, play goes on with its new events as they come.
      if (r.pos >= events.length && !replayFollows(r)) togglePlay();
      renderReplayBar();
    }, FRAME_MS);
  }
  renderReplayBar();
}

function isLive(s) { return !!s && (s.status === 'running' || s.status === 'paused' || s.status === 'starting'); }

function replayFollows(r) { return r.playing && isLive(app.sessions.get(r.id)); }

function renderReplayBar() {
  const r = app.replay;
  const events = app.journal.get(r.id) || [];
  const start = events.length ? events[0].at_ms : 0;
  const end = events.length ? events[events.length - 1].at_ms : 0;
  const slider = $('replay-pos');
  if (Number(slider.max) !== events.length) slider.max = String(events.length);
  if (Number(slider.value) !== r.pos) slider.value = String(r.pos);
  const seq = r.pos > 0 ? events[r.pos - 1].seq : 0;
  const last = events.length ? events[events.length - 1].seq : 0;
  const secs = (ms) => `${Math.max(0, Math.round(ms / 1000))} s`;
  const at = Math.max(r.clock, r.pos > 0 ? events[r.pos - 1].at_ms : start);
  const following = r.pos >= events.length && replayFollows(r);
  setText($('replay-where'), `${following ? 'following live' : r.playing ? 'playing' : 'paused'} · ${secs(at - start)} of ${secs(end - start)} · event ${seq} of ${last}`);
  setText($('replay-play'), r.playing ? 'Pause' : 'Play');
}

// A new session with the replayed one's history up to the event on screen.
function forkHere() {
  const r = app.replay;
  const events = app.journal.get(r.id) || [];
  if (!r.pos) { notice('Step forward first: there is nothing before the first event to keep.', true); return; }
  const seq = events[r.pos - 1].seq;
  const parent = r.id;
  const id = newSessionId();
  command(`fork after event ${seq}`, { command: 'fork_session', id, parent, at: { at: 'event', seq }, created_at: new Date().toISOString() });
  leaveReplay();
  app.selected = null;
  select(id);
}

$('replay-open').onclick = () => enterReplay();
$('replay-bar').onclick = (ev) => {
  const act = ev.target.dataset && ev.target.dataset.rp;
  const r = app.replay;
  if (!act || !r) return;
  const stop = () => { if (r.playing) togglePlay(); };
  switch (act) {
    case 'play': togglePlay(); break;
    case 'start': stop(); replayTo(0); break;
    case 'back': stop(); replayTo(r.pos - 1); break;
    case 'forward': stop(); replayTo(r.pos + 1); break;
    case 'end': stop(); replayTo(Infinity); break;
    case 'fork': forkHere(); break;
    case 'leave': leaveReplay(); break;
    default: break;
  }
  if (app.replay) renderReplayBar();
};
$('replay-pos').oninput = (ev) => {
  const r = app.replay;
  if (!r) return;
  if (r.playing) togglePlay();
  replayTo(Number(ev.target.value));
  renderReplayBar();
};
$('replay-speed').onchange = (ev) => { if (app.replay) app.replay.speed = ev.target.value; };

function statusSpan(status, text) { return el('span', `status s-${status}`, text); }

function renderSession(s) {
  $('session-goal').textContent = s.goal;
  const facts = $('session-facts');
  facts.textContent = '';
  facts.append(statusSpan(s.status, words(s.status, s.steered)), `${s.origin ? ` · started by schedule ${s.origin.schedule} (${s.origin.cause})` : ''} · ${s.id} · ${s.model} · ${fmt(s.tokensIn)} in / ${fmt(s.tokensOut)} out · ${s.calls} calls${s.errors ? ` · ${s.errors} errors` : ''}${s.note ? ` · ${s.note}` : ''}`);
  const live = s.status === 'running' || s.status === 'paused' || s.status === 'starting';
  const can = { pause_session: s.status === 'running', unpause_session: s.status === 'paused', interrupt_session: live,
    resume_session: ['interrupted', 'failed', 'edited'].includes(s.status), add_step: s.hasPlan };
  for (const b of $('session-controls').querySelectorAll('button')) b.disabled = !can[b.dataset.act];
  const flagged = s.flags && isLive(s) ? s.flags.size : 0;
  if (flagged) facts.append(' · ', el('span', 'flag', `⚑ ${flagged} agent${flagged > 1 ? 's' : ''} far off the usual`));
  renderCompareChoices(s);
  renderApprovals(s);
  renderSteps(s);
  renderMetrics(s);
}

function renderApprovals(s) {
  const box = $('approvals');
  box.textContent = '';
  for (const [callId, a] of s.approvals) {
    const div = el('div', 'approval');
    div.append(el('strong', null, `Step ${a.step} asks to run ${a.tool}`));
    const decide = (label, decision) => {
      const b = el('button', 'operator-only', label);
      b.onclick = () => command(`${label.toLowerCase()} ${a.tool} (step ${a.step})`, { command: 'decide_approval', session: s.id, call_id: callId, decision });
      return b;
    };
    div.append(decide('Allow once', { decision: 'allow_once' }), decide('Allow for session', { decision: 'allow_for_session' }), decide('Deny', { decision: 'deny' }));
    div.append(el('div', 'detail', a.detail));
    box.append(div);
  }
}

function waitsOn(s, st) {
  if (st.waiting) return st.waiting;
  if (st.queuedOn) return `provider ${st.queuedOn}`;
  if (st.status === 'paused') return 'resume';
  if (st.status !== 'pending') return '';
  const open = st.deps.filter((d) => (s.steps.get(d) || {}).status !== 'completed');
  if (open.length) return `step${open.length > 1 ? 's' : ''} ${open.join(', ')}`;
  if (s.status === 'running') return `a free agent (at most ${s.maxParallel} at once)`;
  return s.status === 'paused' ? 'the session to be unpaused' : 'resume';
}

const stepRows = new Map();
function renderSteps(s) {
  const tbody = $('steps').tBodies[0];
  const seen = new Set();
  for (const id of s.order) {
    const st = s.steps.get(id);
    seen.add(id);
    let row = stepRows.get(id);
    if (!row) {
      row = { tr: el('tr'), cells: [] };
      for (let i = 0; i < 6; i++) row.cells.push(row.tr.appendChild(el('td')));
      row.cells[4].className = 'num';
      row.cells[5].className = 'acts operator-only';
      row.acts = makeStepButtons(s, id);
      row.cells[5].append(...Object.values(row.acts));
      stepRows.set(id, row);
    }
    if (row.tr !== tbody.children[seen.size - 1]) tbody.insertBefore(row.tr, tbody.children[seen.size - 1] || null); // plan order
    const c = row.cells;
    const title = `${id}\u0000${st.title}`;
    if (row.title !== title) { c[0].textContent = id; c[0].append(el('span', 'title', st.title)); row.title = title; }
    setText(c[1], st.agent);
    const flags = (s.flags && isLive(s) && s.flags.get(id)) || [];
    const status = `${words(st.status, st.steered)}\u0000${st.error || st.note}\u0000${flags.join()}`;
    if (row.status !== status) {
      c[2].textContent = ''; c[2].append(statusSpan(st.status, words(st.status, st.steered)));
      if (st.error || st.note) c[2].append(el('span', 'title', st.error || st.note));
      for (const f of flags) c[2].append(el('span', 'flag', `⚑ ${f}`));
      row.status = status;
    }
    setText(c[3], waitsOn(s, st));
    setText(c[4], fmt(st.callTokens + st.liveTokens));
    setOff(row.acts.pause, st.status !== 'running');
    setOff(row.acts.resume, st.status !== 'paused');
    setOff(row.acts.interrupt, st.status !== 'running' && st.status !== 'paused');
    setOff(row.acts.edit, st.status === 'running' || st.status === 'paused');
  }
  for (const [id, row] of stepRows) if (!seen.has(id)) { row.tr.remove(); stepRows.delete(id); }
}

function makeStepButtons(s, id) {
  const b = (text, title, onclick) => { const x = el('button', null, text); x.title = title; x.onclick = onclick; return x; };
  return {
    pause: b('Pause', 'Hold this agent', () => command(`pause step ${id}`, { command: 'pause_step', session: s.id, step: id })),
    resume: b('Resume', 'Let this agent go on', () => command(`resume step ${id}`, { command: 'resume_step', session: s.id, step: id })),
    interrupt: b('Stop', 'Interrupt this agent', () => command(`interrupt step ${id}`, { command: 'interrupt_step', session: s.id, step: id })),
    edit: b('Edit…', 'Change this step, with a preview of what runs again', () => openEdit(s, id)),
  };
}

// A pane's text is a column of blocks of about CHUNK_CHARS, cut at line ends: appending a token
// lays out only the last block, not the whole pane's text again.
const CHUNK_CHARS = 600;

function paneText(pane, text) {
  pane.pre.textContent = '';
  pane.chunks = [];
  pane.chars = 0;
  appendPaneText(pane, text);
}

function appendPaneText(pane, text) {
  if (!text) return;
  let tail = pane.chunks[pane.chunks.length - 1];
  if (!tail) tail = newChunk(pane);
  tail.appendData(text);
  pane.chars += text.length;
  if (tail.length > CHUNK_CHARS) {
    // Cut after the last line end; a paragraph with none is cut at a space once it is twice
    // as long (its line there ends early: the price of not laying it all out again each frame).
    let cut = tail.data.lastIndexOf('\n');
    if (cut < 0 && tail.length > 2 * CHUNK_CHARS) cut = tail.data.lastIndexOf(' ');
    if (cut >= 0) {
      const rest = tail.data.slice(cut + 1);
      tail.deleteData(cut, tail.length - cut); // the line end or space becomes the boundary
      pane.chars -= 1;
      newChunk(pane).appendData(rest);
    } else if (tail.length > 4 * CHUNK_CHARS) newChunk(pane);
  }
  while (pane.chars > STREAM_CHARS + CHUNK_CHARS && pane.chunks.length > 1) {
    const first = pane.chunks.shift();
    pane.chars -= first.length;
    first.parentNode.remove();
  }
}

function newChunk(pane) {
  const block = el('span', 'chunk');
  const text = document.createTextNode('');
  block.append(text);
  pane.pre.append(block);
  pane.chunks.push(text);
  return text;
}

// Panes off screen are neither laid out (content-visibility in app.css) nor given text; a pane
// follows its text while its reader has not scrolled up, which it learns from its own scroll
// events, not by asking where it is each frame. One coming into view catches up.
const paneSeen = new IntersectionObserver((entries) => {
  for (const entry of entries) entry.target.pane.visible = entry.isIntersecting;
  if (entries.some((entry) => entry.isIntersecting)) schedule();
});

const streamPanes = new Map();
function newPane(id) {
  const root = el('article', 'stream');
  const head = el('header');
  const who = el('span', 'who'); const state = el('span'); const rate = el('span', 'muted');
  head.append(who, state, rate);
  const pre = el('pre');
  const tools = el('div', 'tools');
  root.append(head, pre, tools);
  const pane = { root, who, state, rate, pre, tools, chunks: [], chars: 0, toolsDrawn: -1, status: null,
    steered: null, stick: true, visible: false };
  root.pane = pane;
  pre.addEventListener('scroll', () => { pane.stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 24; }, { passive: true });
  paneSeen.observe(root);
  streamPanes.set(id, pane);
  return pane;
}

function renderStreams(s) {
  const box = $('streams');
  const follow = [];
  for (const id of s.order) {
    const st = s.steps.get(id);
    if (st.status === 'pending' && !st.text) continue;
    let pane = streamPanes.get(id);
    if (!pane) { pane = newPane(id); box.append(pane.root); }
    const flags = ((s.flags && isLive(s) && s.flags.get(id)) || []).join(' · ');
    if (pane.status !== st.status || pane.steered !== st.steered || pane.flags !== flags) {
      pane.who.textContent = `${id} · ${st.agent}`;
      pane.state.replaceChildren(statusSpan(st.status, words(st.status, st.steered)));
      if (flags) { const f = el('span', 'flag', `⚑ ${flags}`); f.title = 'far off the usual of this role on this provider and model'; pane.state.append(' ', f); }
      pane.status = st.status; pane.steered = st.steered; pane.flags = flags;
    }
    // Text waits while its pane is off screen: laying out what nobody sees is most of a frame.
    if ((st.reset || st.appended) && pane.visible) {
      if (st.reset || st.appended.length > STREAM_CHARS) { paneText(pane, st.text.slice(-STREAM_CHARS)); st.reset = false; } else appendPaneText(pane, st.appended);
      st.appended = '';
      if (pane.stick) follow.push(pane);
    }
    const toolsKey = st.tools.map((t) => `${t.status}${t.decision || ''}${t.summary}`).join();
    if (pane.toolsDrawn !== toolsKey) {
      pane.tools.replaceChildren(...st.tools.map((t) => {
        const d = el('div', `tool-${t.status}`, `⚙ ${t.name} ${t.args}${t.decision ? ` [${t.decision}]` : ''}${t.summary ? ` → ${t.summary}` : ''}`);
        d.title = d.textContent;
        return d;
      }));
      pane.toolsDrawn = toolsKey;
    }
  }
  // Every text written first, then every scroll: one layout a frame, not one per pane.
  for (const pane of follow) pane.pre.scrollTop = pane.pre.scrollHeight;
}

// ---- Metrics ---------------------------------------------------------------------------------

function sampleRates() {
  const now = Date.now();
  for (const s of app.sessions.values()) {
    if (s.status !== 'running' && s.status !== 'paused' && s.rates.size === 0) continue;
    for (const st of s.steps.values()) {
      let r = s.rates.get(st.id);
      if (!r) { if (st.status !== 'running') continue; r = { last: st.produced, at: now, points: [] }; s.rates.set(st.id, r); }
      const dt = (now - r.at) / 1000;
      r.points.push(dt > 0 ? (st.produced - r.last) / dt : 0);
      if (r.points.length > RATE_POINTS) r.points.shift();
      r.last = st.produced; r.at = now;
    }
  }
  const s = app.sessions.get(app.selected);
  // A replay shows the rates it folded, not the present's.
  if (s && !app.replay) { renderRates(s); app.dirtySession = true; app.dirtyList.add(s.id); schedule(); }
}

function colorOf(s, id) { return COLORS[s.order.indexOf(id) % COLORS.length]; }

function renderRates(s) {
  const canvas = $('rate-chart');
  const w = canvas.clientWidth || 560; const h = 140;
  if (canvas.width !== w) canvas.width = w;
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, w, h);
  let max = 1;
  for (const r of s.rates.values()) for (const p of r.points) max = Math.max(max, p);
  g.strokeStyle = '#2a323c'; g.beginPath(); g.moveTo(0, h - 0.5); g.lineTo(w, h - 0.5); g.stroke();
  g.fillStyle = '#8794a3'; g.font = '11px system-ui'; g.fillText(`${Math.round(max)} tok/s`, 4, 12);
  const legend = [];
  for (const [id, r] of s.rates) {
    if (!r.points.some((p) => p > 0)) continue;
    g.strokeStyle = colorOf(s, id); g.lineWidth = 1.5; g.beginPath();
    r.points.forEach((p, i) => {
      const x = w - (r.points.length - 1 - i) * (w / (RATE_POINTS - 1));
      const y = h - 2 - (p / max) * (h - 18);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
    legend.push([id, r.points[r.points.length - 1]]);
  }
  $('rate-legend').replaceChildren(...legend.map(([id, p]) => {
    const span = el('span'); const i = el('i'); i.style.background = colorOf(s, id);
    span.append(i, `${id} ${(s.steps.get(id) || {}).agent || ''} ${p.toFixed(1)}/s`); return span;
  }));
}

function renderSpeedup(s) {
  if (!s.runStartMs) { $('speedup').textContent = '–'; $('speedup-note').textContent = 'not started'; return; }
  const end = s.endedMs || Date.now();
  let busy = 0;
  for (const st of s.steps.values()) if (st.startedMs) busy += (st.endedMs || (st.status === 'running' || st.status === 'paused' ? end : st.startedMs)) - st.startedMs;
  const wall = Math.max(1, end - s.runStartMs);
  $('speedup').textContent = `×${(busy / wall).toFixed(2)}`;
  $('speedup-note').textContent = `${(busy / 1000).toFixed(1)} s of agent work in ${(wall / 1000).toFixed(1)} s`;
}

function renderMetrics(s) {
  const perAgent = new Map();
  const statuses = new Map();
  for (const st of s.steps.values()) {
    perAgent.set(st.agent, (perAgent.get(st.agent) || 0) + st.callTokens + st.liveTokens);
    statuses.set(st.status, (statuses.get(st.status) || 0) + 1);
  }
  const top = Math.max(1, ...perAgent.values());
  $('agent-bars').replaceChildren(...[...perAgent].map(([agent, n]) => {
    const row = el('div', 'bar-row'); const bar = el('div', 'bar'); bar.style.width = `${(100 * n) / top}%`;
    const track = el('div'); track.append(bar);
    row.append(el('span', null, agent), track, el('span', 'num', fmt(n))); return row;
  }));
  const total = Math.max(1, s.steps.size);
  $('status-bar').replaceChildren(...[...statuses].map(([status, n]) => {
    const span = el('span'); span.style.width = `${(100 * n) / total}%`; span.style.background = STATUS_COLORS[status] || '#888'; span.title = `${status}: ${n}`; return span;
  }));
  $('status-legend').replaceChildren(...[...statuses].map(([status, n]) => {
    const span = el('span'); const i = el('i'); i.style.background = STATUS_COLORS[status] || '#888'; span.append(i, `${status} ${n}`); return span;
  }));
  renderSpeedup(s);
}

function fmt(n) { return n.toLocaleString('en-US'); }

// ---- Analytics, compare, and baseline flags: the server reads the journals ---------------------

function showView(view) {
  if (app.replay && view !== 'session') leaveReplay();
  app.view = view;
  app.dirtySession = true;
  schedule();
}

const pct = (x) => `${(100 * x).toFixed(0)} %`;
const seconds = (ms) => (ms == null ? '–' : ms < 10000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(0)} s`);
const spread = (sp, f) => (sp ? `${f(sp.median)} / ${f(sp.p90)}` : '–');
const dollars = (x) => (x == null ? '–' : `$${x.toFixed(4)}`);

async function openAnalytics() {
  showView('analytics');
  setText($('an-summary'), 'reading the summaries of every session…');
  const q = new URLSearchParams({ by: $('an-by').value });
  if ($('an-since').value) q.set('since', $('an-since').value);
  const answer = await getJson(`/api/v1/stats?${q}`);
  if (answer.error) { setText($('an-summary'), ''); notice(`analytics: ${answer.error}`, true); return; }
  renderAnalytics(answer);
}

function renderAnalytics(answer) {
  const st = answer.stats;
  const ss = st.sessions;
  setText($('an-period'), answer.period);
  const statuses = Object.entries(ss.by_status).map(([k, n]) => `${n} ${k}`).join(', ');
  const count = (n, one, many) => `${fmt(n)} ${n === 1 ? one : many}`;
  setText($('an-summary'), `${count(ss.sessions, 'session', 'sessions')} (${statuses || 'none'}) · ${count(ss.forks, 'fork', 'forks')} · ${fmt(ss.budget_hits)} stopped at a budget cap`
    + ` · parallel speedup p50 ${ss.speedup ? `×${ss.speedup.median.toFixed(2)}` : '–'} · wall time p50 ${ss.wall_ms ? seconds(ss.wall_ms.median) : '–'}`
    + `${answer.rebuilt ? ` · ${answer.rebuilt} summaries made from journals now` : ''}`);
  for (const w of answer.warnings) notice(`analytics: ${w}`, true);
  const tbody = $('an-groups').tBodies[0];
  tbody.replaceChildren(...[...st.groups, { ...st.overall, key: 'all' }].map((g) => {
    const tr = el('tr', g.key === 'all' ? 'total' : null);
    const cells = [g.key, fmt(g.sessions), fmt(g.calls), spread(g.ttft_ms, seconds), spread(g.tokens_per_second, (x) => x.toFixed(1)),
      spread(g.tokens_per_step, (x) => fmt(Math.round(x))), g.cost_per_session ? dollars(g.cost_per_session.median) : '–',
      pct(g.failure_rate), pct(g.retry_rate), pct(g.failover_rate), fmt(g.token_cap_hits), fmt(g.estimated_calls)];
    cells.forEach((text, i) => tr.append(el('td', i ? 'num' : null, text)));
    return tr;
  }));
  const days = st.days;
  $('an-charts').replaceChildren(
    chart('Sessions a day', days, (d) => d.sessions, (x) => fmt(Math.round(x))),
    chart('Tokens/s a day (median)', days, (d) => d.tokens_per_second, (x) => x.toFixed(1)),
    chart('First token a day (median)', days, (d) => d.ttft_ms, seconds),
    chart('Failed calls a day', days, (d) => d.failure_rate, pct));
  $('an-recs').replaceChildren(...(st.recommendations.length
    ? st.recommendations.map((r) => el('li', null, r.advice))
    : [el('li', 'muted', 'Nothing to recommend: no rule found a problem in these sessions.')]));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// One figure over the days: a line through the days that have a value, the last value and the
// highest written beside it.
function chart(title, days, value, format) {
  const fig = el('figure');
  fig.append(el('figcaption', null, title));
  const points = days.map((d) => [d.day, value(d)]).filter(([, v]) => v != null);
  if (!points.length) { fig.append(el('div', 'muted', 'no data in this period')); return fig; }
  const w = 300; const h = 90;
  const max = Math.max(...points.map(([, v]) => v), 1e-9);
  const x = (i) => (days.length > 1 ? (i * (w - 8)) / (days.length - 1) + 4 : w / 2);
  const y = (v) => h - 4 - (v / max) * (h - 16);
  const graph = svg('svg', { viewBox: `0 0 ${w} ${h}`, class: 'day-chart', role: 'img', 'aria-label': title });
  const coords = days.map((d, i) => [i, value(d)]).filter(([, v]) => v != null).map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  graph.append(svg('polyline', { points: coords.join(' '), fill: 'none', stroke: '#4fa3ff', 'stroke-width': 1.5 }));
  for (const c of coords) { const [cx, cy] = c.split(','); graph.append(svg('circle', { cx, cy, r: 2, fill: '#4fa3ff' })); }
  const label = svg('text', { x: 4, y: 11, fill: '#8794a3', 'font-size': 10 });
  label.textContent = `max ${format(max)}`;
  graph.append(label);
  fig.append(graph);
  const [firstDay] = points[0]; const [lastDay, last] = points[points.length - 1];
  fig.append(el('div', 'legend', `${firstDay} … ${lastDay} · last ${format(last)}`));
  return fig;
}

$('analytics-open').onclick = () => openAnalytics();
$('an-update').onclick = () => openAnalytics();
$('an-since').onchange = () => openAnalytics();
$('an-by').onchange = () => openAnalytics();
$('an-close').onclick = () => showView('session');

async function openCompare(a, b) {
  app.compared = [a, b];
  showView('compare');
  $('cmp-steps').replaceChildren(el('div', 'muted', 'reading both journals…'));
  await fetchCompare();
}

async function fetchCompare() {
  const [a, b] = app.compared;
  const answer = await getJson(`/api/v1/compare?${new URLSearchParams({ a, b })}`);
  // The person may have left the view, or chosen another pair, meanwhile.
  if (app.view !== 'compare' || app.compared[0] !== a || app.compared[1] !== b) return;
  if (answer.error) { $('cmp-steps').textContent = ''; notice(`compare: ${answer.error}`, true); return; }
  renderCompare(answer);
}

// While either side runs, the figures are asked for again, as the terminal's view recomputes.
setInterval(() => {
  if (app.view === 'compare' && app.compared && app.compared.some((id) => isLive(app.sessions.get(id)))) fetchCompare();
}, 3000);

function figureCells(f) {
  if (!f) return [el('td', 'muted', 'no such step in this run')];
  const tokens = `${fmt(f.input_tokens)} / ${fmt(f.output_tokens)}${f.estimated ? ' (estimated)' : ''}`;
  const cells = [tokens, dollars(f.cost_usd), seconds(f.ttft_ms), f.tokens_per_s == null ? '–' : f.tokens_per_s.toFixed(1),
    fmt(f.tool_calls), `${f.errors} / ${f.retries}`, seconds(f.time_ms)];
  return [...cells.map((t) => el('td', 'num', t)), el('td', null, f.status)];
}

function figuresRow(label, side, f) {
  const tr = el('tr');
  tr.append(el('td', null, label), el('th', null, side), ...figureCells(f));
  return tr;
}

function diffNode(d) {
  const p = el('p', 'diff');
  switch (d.kind) {
    case 'same': p.append(el('span', 'muted', 'same text in both')); break;
    case 'no_output': p.append(el('span', 'muted', 'no output in either')); break;
    case 'different': {
      const a = el('span', 'only-a', d.a || '(no output)'); const b = el('span', 'only-b', d.b || '(no output)');
      p.append(el('span', 'muted', 'different texts · A: '), a, el('span', 'muted', ' · B: '), b);
      break;
    }
    default:
      for (const part of d.parts) {
        p.append(part.side === 'both' ? document.createTextNode(part.text)
          : el(part.side === 'only_a' ? 'del' : 'ins', null, part.text));
      }
  }
  return p;
}

function renderCompare(answer) {
  const c = answer.comparison;
  $('cmp-sides').tBodies[0].replaceChildren(...[['A', c.a], ['B', c.b]].map(([name, side]) => {
    const tr = el('tr');
    const open = el('button', 'quiet', side.session); open.title = 'show this session'; open.onclick = () => select(side.session);
    const td = el('td'); td.append(open);
    tr.append(el('th', null, name), td, el('td', null, `${side.ran_on}${side.forked ? ' · a fork' : ''}`), el('td', null, side.totals.status));
    return tr;
  }));
  const rows = [figuresRow('Steps', 'A', c.a.totals), figuresRow('', 'B', c.b.totals)];
  if (c.a.planner || c.b.planner) {
    for (const [name, side] of [['A', c.a], ['B', c.b]]) {
      if (side.planner) rows.push(figuresRow(name === 'A' ? 'Plan' : '', name, side.planner));
      else {
        const tr = el('tr'); const why = side.forked ? 'a fork: its plan came from its parent' : 'did not plan: ran a given plan';
        const td = el('td', 'muted', why); td.colSpan = 8;
        tr.append(el('td', null, name === 'A' ? 'Plan' : ''), el('th', null, name), td); rows.push(tr);
      }
    }
  }
  $('cmp-totals').tBodies[0].replaceChildren(...rows);
  const running = [['A', c.a], ['B', c.b]].filter(([, side]) => side.running).map(([name]) => name);
  setText($('cmp-verdict-title'), running.length === 0 ? 'Verdict'
    : `Verdict so far (${running.length === 2 ? 'both are' : `${running[0]} is`} still running)`);
  $('cmp-verdicts').replaceChildren(...c.verdicts.map((v) => el('li', null, v.line)));
  $('cmp-steps').replaceChildren(...c.steps.map((step, i) => {
    const box = el('section', 'cmp-step');
    box.append(el('h4', null, `${step.id} · ${step.agent} · ${step.title}`));
    const table = el('table', 'figures');
    const head = el('tr'); for (const t of ['', 'Tokens in / out', 'Cost', '1st token', 'Tokens/s', 'Tools', 'Errors / retries', 'Time', 'Status']) head.append(el('th', t && t !== 'Status' ? 'num' : null, t));
    const body = [['A', step.a], ['B', step.b]].map(([name, f]) => { const tr = el('tr'); tr.append(el('th', null, name), ...figureCells(f)); return tr; });
    table.append(head, ...body);
    box.append(table, diffNode(answer.diffs[i]));
    return box;
  }));
}

$('compare-with').onchange = (ev) => {
  const b = ev.target.value;
  ev.target.value = '';
  if (b && app.selected) openCompare(app.selected, b);
};
$('cmp-swap').onclick = () => { if (app.compared) openCompare(app.compared[1], app.compared[0]); };
$('cmp-close').onclick = () => showView('session');

// The other sessions, newest first, for "Compare with…"; forks and their parent first.
function renderCompareChoices(s) {
  const box = $('compare-with');
  const others = sortedSessions().filter((o) => o.id !== s.id);
  const family = (o) => o.id === s.forkedFrom || o.forkedFrom === s.id;
  others.sort((x, y) => Number(family(y)) - Number(family(x)));
  const key = others.map((o) => `${o.id}${o.goal}`).join();
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(el('option', null, 'Compare with…'), ...others.map((o) => {
    const opt = el('option', null, `${family(o) ? (o.id === s.forkedFrom ? 'parent: ' : 'fork: ') : ''}${o.goal || o.id} (${o.id.slice(-8)})`);
    opt.value = o.id; return opt;
  }));
  box.firstChild.value = '';
}

// Running agents far off their usual (same role, provider and model), as the server judges it
// from every session's journal; asked every few seconds while the shown session runs.
const FLAGS_EVERY_MS = 3000;
async function refreshFlags() {
  const s = app.sessions.get(app.selected);
  if (!s || app.replay || !isLive(s) || !app.capabilities.includes('analytics')) return;
  const rates = {};
  for (const [id, r] of s.rates) if (r.points.length) rates[id] = r.points[r.points.length - 1];
  const answer = await postJson('/api/v1/flags', JSON.stringify({ session: s.id, rates }), 'application/json');
  if (answer.error) return; // the next poll asks again; the dashboard works without flags
  const flags = new Map(answer.steps.map((f) => [f.step, f.flags]));
  const key = JSON.stringify([...flags]);
  if (s.flagsKey === key) return;
  s.flags = flags; s.flagsKey = key;
  app.dirtySession = true;
  schedule();
}
setInterval(refreshFlags, FLAGS_EVERY_MS);

// ---- Controls ----------------------------------------------------------------------------------

function newSessionId() {
  const d = new Date();
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const hex = [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `session_${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}_${hex}`;
}

function startSession(goal, plan, budget) {
  const id = newSessionId();
  const body = { command: 'start_session', id, goal, created_at: new Date().toISOString() };
  if (plan) body.plan = plan;
  if (budget) body.budget = budget;
  command(`start "${goal.length > 40 ? `${goal.slice(0, 40)}…` : goal}"`, body);
  app.selected = null;
  select(id);
}

$('start').onsubmit = (ev) => {
  ev.preventDefault();
  const goal = $('goal').value.trim();
  if (!goal) { notice('Type a goal first.', true); return; }
  startSession(goal);
  $('goal').value = '';
};

$('plan-file').onchange = async () => {
  const file = $('plan-file').files[0];
  $('plan-file').value = '';
  if (!file) return;
  const answer = await postJson('/api/v1/plan-file', await file.text(), 'text/plain');
  if (answer.error) { notice(`${file.name}: ${answer.error}`, true); return; }
  const goal = $('goal').value.trim() || answer.goal;
  if (!goal) { notice(`${file.name} names no goal: type one, then pick the file again.`, true); return; }
  startSession(goal, answer.plan, answer.budget);
  $('goal').value = '';
};

$('session-controls').onclick = (ev) => {
  const act = ev.target.dataset && ev.target.dataset.act;
  const s = app.sessions.get(app.selected);
  if (!act || !s) return;
  if (act === 'add_step') { openEdit(s, null); return; }
  const label = { pause_session: 'pause', unpause_session: 'unpause', interrupt_session: 'interrupt', resume_session: 'resume' }[act];
  command(`${label} the session`, { command: act, session: s.id });
};

function postJson(url, body, type) {
  return fetchJson(url, { method: 'POST', headers: { 'Content-Type': type }, body });
}

function getJson(url) { return fetchJson(url, {}); }

// The answer's JSON, or { error } saying why there is none.
async function fetchJson(url, init) {
  try {
    const r = await fetch(url, { ...init, credentials: 'same-origin' });
    const json = await r.json().catch(() => ({ error: `the server answered ${r.status}` }));
    return r.ok ? json : { error: json.error || `the server answered ${r.status}` };
  } catch (e) {
    return { error: `the server could not be reached: ${e.message}` };
  }
}

// The plan editor: an edit is previewed by the server (the engine's own rules), then sent.
let editing = null;
function openEdit(s, stepId) {
  const st = stepId ? s.steps.get(stepId) : null;
  editing = { session: s.id, step: stepId, edit: null };
  $('edit-title').textContent = st ? `Edit step ${stepId} (${st.agent})` : 'Add a step';
  const kind = $('edit-kind');
  for (const o of kind.options) o.disabled = st ? o.value === 'add_step' : o.value !== 'add_step';
  kind.value = st ? 'change_task' : 'add_step';
  $('edit-text').value = st ? st.task : '';
  $('edit-agent').value = st ? st.agent : 'researcher';
  $('edit-deps').value = st ? st.deps.join(', ') : s.order.slice(-1).join(', ');
  showEditFields();
  $('edit-dialog').showModal();
}

function showEditFields() {
  const k = $('edit-kind').value;
  $('edit-text-label').hidden = !(k === 'change_task' || k === 'add_step');
  $('edit-agent-label').hidden = !(k === 'change_agent' || k === 'add_step');
  $('edit-deps-label').hidden = !(k === 'set_dependencies' || k === 'add_step');
  $('edit-dependents-label').hidden = k !== 'remove_step';
  $('edit-impact').textContent = '';
  $('edit-apply').disabled = true;
}
$('edit-kind').onchange = showEditFields;
for (const id of ['edit-text', 'edit-agent', 'edit-deps', 'edit-dependents']) $(id).oninput = () => { $('edit-apply').disabled = true; };

function editFromForm() {
  const s = app.sessions.get(editing.session);
  const k = $('edit-kind').value;
  const deps = $('edit-deps').value.split(/[\s,]+/).filter(Boolean);
  const task = $('edit-text').value.trim();
  const agent = $('edit-agent').value.trim();
  switch (k) {
    case 'change_task': return { edit: k, step: editing.step, task };
    case 'change_agent': return { edit: k, step: editing.step, agent };
    case 'set_dependencies': return { edit: k, step: editing.step, depends_on: deps };
    case 'remove_step': return { edit: k, step: editing.step, dependents: $('edit-dependents').value };
    default: {
      const numbers = s.order.map(Number).filter((n) => Number.isInteger(n));
      let n = (numbers.length ? Math.max(...numbers) : 0) + 1;
      while (s.steps.has(String(n))) n += 1;
      return { edit: 'add_step', step: { id: String(n), title: titleFromTask(task), agent, task, depends_on: deps } };
    }
  }
}

$('edit-preview').onclick = async () => {
  const edit = editFromForm();
  const answer = await postJson('/api/v1/preview-edit', JSON.stringify({ session: editing.session, edit }), 'application/json');
  const out = $('edit-impact');
  out.classList.toggle('bad', !!answer.error);
  out.textContent = answer.error || answer.impact;
  editing.edit = answer.error ? null : edit;
  $('edit-apply').disabled = !!answer.error;
};
$('edit-apply').onclick = () => {
  if (!editing || !editing.edit) return;
  command(`edit the plan (step ${editing.edit.step.id || editing.edit.step})`, { command: 'edit_plan', session: editing.session, edit: editing.edit });
  $('edit-dialog').close();
};
$('edit-cancel').onclick = () => $('edit-dialog').close();

// Keyboard, as in the terminal dashboard: j/k move between sessions.
document.addEventListener('keydown', (ev) => {
  if (ev.target.closest('input, textarea, select, dialog')) return;
  const list = sortedSessions();
  const at = list.findIndex((s) => s.id === app.selected);
  if (ev.key === 'j' && at < list.length - 1) select(list[at + 1].id);
  if (ev.key === 'k' && at > 0) select(list[at - 1].id);
});

setInterval(sampleRates, 1000);
connect();
