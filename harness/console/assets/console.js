// The web console (issue 12): the fleet tree, click-to-read (点抄), read-all, valve control, the latency chart
// and the live frame log, over the relay's WebSocket. Plain DOM, no framework; text from the network is only
// ever written with textContent.
//
// Every read still waiting can be cancelled (the relay's v1 `cancel`, harness/relay/README.md): the meter card's
// Cancel next to "reading…", and a Cancel in each waiting row of the read-all table (Stop cancels them all). A
// cancelled read ends CANCELLED like any failed read, but it says nothing about the meter, so the tree keeps the
// meter's last outcome.
import { RelayConnection } from './connection.js';
import { applyLabels, language, t, toggleLanguage } from './i18n.js';

/** Reads a read-all keeps in flight at once (the relay allows 100 per connection). */
const READ_ALL_CONCURRENCY = 8;
/** Rows the results table shows; a larger read-all still counts every row in the progress line. */
const MAX_RESULT_ROWS = 2000;
/** Frame lines kept in the page; older ones are dropped. */
const MAX_FRAME_LINES = 500;
/** Points in the latency chart. */
const MAX_CHART_POINTS = 300;
/** A fleet larger than this starts with its concentrators folded (their meters are drawn when opened). */
const OPEN_TREE_METERS = 600;

const $ = (id) => document.getElementById(id);

const state = {
  fleet: [], // FleetConcentrator[]
  selected: undefined, // { concentrator, meter }
  lastResult: new Map(), // "concentrator/meter" → { ok, text }
  single: undefined, // the meter card's read still waiting: { s, controller }
  valvesWaiting: 0, // valve commands of the meter card still waiting
  readAll: undefined, // { stop }
  chart: { xs: [], ys: [], plot: undefined },
  frames: { paused: false, waiting: [], subscription: undefined, filter: {}, closed: undefined },
};

const connection = new RelayConnection({
  onStatus: (status) => {
    const el = $('status');
    el.dataset.state = status;
    el.dataset.i18n = status;
    el.textContent = t(status);
  },
  onOpen: () => void loadFleet(),
});

// ---- fleet ----

async function loadFleet() {
  const all = [];
  let offset = 0;
  for (;;) {
    const answer = await connection.request({ type: 'fleet', offset, limit: 500 });
    if (answer.type !== 'fleet') {
      showTreeError(answer);
      return;
    }
    all.push(...answer.concentrators);
    offset += answer.concentrators.length;
    if (answer.concentrators.length === 0 || offset >= answer.total) break;
  }
  state.fleet = all;
  renderCounts();
  renderTree();
}

function showTreeError(answer) {
  const tree = $('tree');
  tree.replaceChildren(el('li', 'error-box', `${answer.code}: ${answer.message}`));
}

function renderCounts() {
  let meters = 0;
  let valves = 0;
  for (const c of state.fleet) {
    for (const p of c.ports) {
      meters += p.meters.length;
      for (const m of p.meters) if (m.valve) valves++;
    }
  }
  $('count-concentrators').textContent = String(state.fleet.length);
  $('count-online').textContent = String(state.fleet.filter((c) => c.online).length);
  $('count-meters').textContent = String(meters);
  $('count-valves').textContent = String(valves);
}

function meterCount(c) {
  return c.ports.reduce((n, p) => n + p.meters.length, 0);
}

function renderTree() {
  const query = $('search').value.trim().toLowerCase();
  const total = state.fleet.reduce((n, c) => n + meterCount(c), 0);
  const items = [];
  for (const c of state.fleet) {
    const nameMatches = query === '' || c.id.includes(query) || (c.alias ?? '').toLowerCase().includes(query);
    const meterMatch = (m) => nameMatches || m.address.includes(query);
    if (!nameMatches && !c.ports.some((p) => p.meters.some(meterMatch))) continue;
    items.push(concentratorItem(c, meterMatch, query !== '' || total <= OPEN_TREE_METERS));
  }
  $('tree').replaceChildren(...items);
}

function concentratorItem(c, meterMatch, open) {
  const li = el('li', 'concentrator');
  li.dataset.concentrator = c.id;
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  const dot = el('span', `dot${c.online ? ' online' : ''}`);
  dot.title = t(c.online ? 'online' : 'offline');
  const readAll = el('button', 'read-all', t('readAll'));
  readAll.type = 'button';
  readAll.dataset.i18n = 'readAll';
  readAll.addEventListener('click', (event) => {
    event.preventDefault();
    void runReadAll([c], c.alias ?? c.id);
  });
  summary.append(
    dot,
    el('span', 'name', c.alias ?? c.id),
    el('span', 'addr', `A1 ${c.a1} A2 ${c.a2}`),
    el(
      'span',
      'heard',
      `${t('lastHeartbeat')} ${c.lastHeartbeatAt ? clockTime(c.lastHeartbeatAt) : t('never')}`,
    ),
    readAll,
  );
  details.append(summary);
  const drawMeters = () => {
    if (details.dataset.drawn) return;
    details.dataset.drawn = '1';
    const ports = el('ul');
    for (const p of c.ports) {
      const meters = p.meters.filter(meterMatch);
      if (meters.length === 0) continue;
      const portLi = el('li');
      portLi.append(el('div', 'port-label', `${t('port')} ${p.port} · ${meters.length}`));
      const list = el('ul');
      for (const m of meters) list.append(meterItem(c, m));
      portLi.append(list);
      ports.append(portLi);
    }
    details.append(ports);
  };
  details.addEventListener('toggle', () => {
    if (details.open) drawMeters();
  });
  if (open) {
    details.open = true;
    drawMeters();
  }
  li.append(details);
  return li;
}

function meterItem(c, m) {
  const li = el('li');
  const button = el('button', 'meter-item');
  button.type = 'button';
  button.dataset.concentrator = c.id;
  button.dataset.meter = m.address;
  const key = `${c.id}/${m.address}`;
  const last = state.lastResult.get(key);
  button.append(
    el('span', 'mono', shortAddress(m.address)),
    el('span', 'tag', `${protocolName(m.protocol)} · ${kindName(m.kind)}`),
    el('span', 'valve-tag', m.valve ? t('valve') : ''),
    el('span', `last${last ? (last.ok ? ' ok' : ' bad') : ''}`, last?.text ?? ''),
  );
  if (state.selected?.concentrator === c.id && state.selected.meter === m.address)
    button.classList.add('selected');
  button.addEventListener('click', () => {
    select(c, m);
    void readSelected();
  });
  li.append(button);
  return li;
}

/** An address without its padding zeros, as people write it ("00000000101001" → "101001"). */
function shortAddress(address) {
  return address.replace(/^0+(?=.)/, '');
}

function kindName(kind) {
  const label = t(`kind:${kind}`);
  return label === `kind:${kind}` ? kind : label;
}

function protocolName(p) {
  return p === 'cjt188' ? 'CJ/T 188' : p === 'dlt645' ? 'DL/T 645' : p;
}

function updateTreeBadge(concentrator, meter) {
  const last = state.lastResult.get(`${concentrator}/${meter}`);
  const button = document.querySelector(
    `.meter-item[data-concentrator="${CSS.escape(concentrator)}"][data-meter="${CSS.escape(meter)}"] .last`,
  );
  if (!button || !last) return;
  button.textContent = last.text;
  button.className = `last ${last.ok ? 'ok' : 'bad'}`;
}

// ---- one meter ----

function select(c, m) {
  state.selected = { concentrator: c.id, name: c.alias ?? c.id, meter: m.address, valve: m.valve };
  for (const b of document.querySelectorAll('.meter-item.selected')) b.classList.remove('selected');
  document
    .querySelector(
      `.meter-item[data-concentrator="${CSS.escape(c.id)}"][data-meter="${CSS.escape(m.address)}"]`,
    )
    ?.classList.add('selected');
  $('meter-name').textContent = `${shortAddress(m.address)} @ ${c.alias ?? c.id}`;
  $('meter-hint').hidden = true;
  $('meter-actions').hidden = false;
  $('valve-open').disabled = !m.valve;
  $('valve-close').disabled = !m.valve;
  $('valve-open').title = m.valve ? '' : t('noValve');
  $('valve-close').title = m.valve ? '' : t('noValve');
}

async function readSelected() {
  const s = state.selected;
  if (!s) return;
  // A read still waiting for another meter would not be shown any more (the card has moved on): withdraw it, so
  // that it does not hold the concentrator's port for the one asked now.
  state.single?.controller.abort();
  const read = { s, controller: new AbortController() };
  state.single = read;
  renderBusy();
  const started = performance.now();
  const answer = await connection.request(
    { type: 'read', concentrator: s.concentrator, meter: s.meter },
    { signal: read.controller.signal },
  );
  if (state.single === read) state.single = undefined;
  renderBusy();
  if (state.selected !== s) return;
  noteResult(s.concentrator, s.meter, answer, performance.now() - started);
  showAnswer(answer);
}

/** The meter card's Cancel: withdraws its read; the relay's CANCELLED answer then ends it. */
function cancelSelected() {
  const read = state.single;
  if (!read) return;
  read.controller.abort();
  renderBusy();
}

async function valve(action) {
  const s = state.selected;
  if (!s) return;
  state.valvesWaiting++;
  renderBusy();
  const answer = await connection.request({
    type: 'valve',
    concentrator: s.concentrator,
    meter: s.meter,
    action,
  });
  state.valvesWaiting--;
  renderBusy();
  if (state.selected !== s) return;
  if (answer.type === 'valve-status') {
    $('meter-error').hidden = true;
    $('meter-result').hidden = false;
    $('r-valve').textContent = t(answer.valve);
    $('r-valve').dataset.valve = answer.valve;
    if (answer.batteryLow !== undefined)
      $('r-battery').textContent = t(answer.batteryLow ? 'batteryLow' : 'batteryOk');
    if (answer.latencyMs !== undefined) {
      $('r-latency').textContent = `${Math.round(answer.latencyMs)} ms`;
      addLatency(answer.latencyMs);
    }
  } else showAnswer(answer);
}

function renderBusy() {
  const busy = state.single !== undefined || state.valvesWaiting > 0;
  $('meter-busy').hidden = !busy;
  for (const id of ['read-one', 'valve-open', 'valve-close']) {
    $(id).disabled = busy || (id !== 'read-one' && !state.selected?.valve);
  }
  // Only a read can be cancelled (the relay has no cancel for a valve command); once asked, the button stays
  // disabled until the answer hides it.
  const cancel = $('read-cancel');
  cancel.hidden = state.single === undefined;
  cancel.disabled = state.single?.controller.signal.aborted ?? true;
}

function showAnswer(answer) {
  if (answer.type === 'reading') {
    $('meter-error').hidden = true;
    $('meter-result').hidden = false;
    $('r-value').textContent = String(answer.value);
    $('r-unit').textContent = answer.unit;
    $('r-meter-time').textContent = answer.meterTime ?? '—';
    $('r-valve').textContent = answer.status ? t(answer.status.valve) : '—';
    $('r-valve').dataset.valve = answer.status?.valve ?? '';
    $('r-battery').textContent = answer.status
      ? t(answer.status.batteryLow ? 'batteryLow' : 'batteryOk')
      : '—';
    $('r-latency').textContent = answer.latencyMs === undefined ? '—' : `${Math.round(answer.latencyMs)} ms`;
    $('r-read-at').textContent = answer.readAt ? clockTime(answer.readAt) : '—';
    return;
  }
  $('meter-result').hidden = true;
  $('meter-error').hidden = false;
  $('e-code').textContent = answer.code ?? 'ERROR';
  $('e-message').textContent = cancelled(answer) ? t('readCancelled') : (answer.message ?? '');
  const detail = $('e-detail');
  detail.hidden = answer.detail === undefined;
  detail.textContent =
    answer.detail === undefined
      ? ''
      : typeof answer.detail === 'object'
        ? Object.entries(answer.detail)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n')
        : String(answer.detail);
}

/** Whether `answer` ends a read the user cancelled. */
function cancelled(answer) {
  return answer.type === 'error' && answer.code === 'CANCELLED';
}

/** Remembers a read's outcome for the tree and the chart (not a cancel: it tells nothing about the meter). */
function noteResult(concentrator, meter, answer, roundTripMs) {
  if (cancelled(answer)) return;
  const ok = answer.type === 'reading';
  state.lastResult.set(`${concentrator}/${meter}`, {
    ok,
    text: ok ? `${answer.value} ${answer.unit}` : answer.code,
  });
  updateTreeBadge(concentrator, meter);
  if (ok) addLatency(answer.latencyMs ?? roundTripMs);
}

// ---- read-all ----

async function runReadAll(concentrators, scope) {
  state.readAll?.stop();
  // Round-robin over the buses (concentrator ports): each bus reads one meter at a time, so reading one bus
  // after the other would leave the others idle.
  const buses = [];
  for (const c of concentrators) for (const p of c.ports) buses.push(p.meters.map((m) => ({ c, m })));
  const targets = [];
  for (let i = 0; buses.some((b) => i < b.length); i++)
    for (const b of buses) if (i < b.length) targets.push({ ...b[i], controller: new AbortController() });
  $('results-scope').textContent = `— ${scope}`;
  $('results-empty').hidden = true;
  const body = $('results-body');
  const progress = $('progress');
  let done = 0;
  let failed = 0;
  let cancelledCount = 0;
  const job = {
    // Stop (or a new read-all) cancels every read of this one still waiting, sent or not.
    stop: () => {
      for (let i = 0; i < targets.length; i++) cancelTarget(i);
    },
  };
  const showProgress = () => {
    if (state.readAll !== job) return; // a newer read-all owns the progress line (this one's late answers)
    progress.value = done;
    $('progress-text').textContent =
      `${done} / ${targets.length}${failed ? ` · ${t('failed')} ${failed}` : ''}${cancelledCount ? ` · ${t('cancelled')} ${cancelledCount}` : ''}`;
  };
  /** Settles target `i` with `answer`: counts it and fills its row. */
  const settle = (i, answer) => {
    done++;
    if (cancelled(answer)) cancelledCount++;
    else if (answer.type !== 'reading') failed++;
    if (rows[i]) fillRow(rows[i], answer);
    showProgress();
  };
  /**
   * Cancels target `i`: a read not sent yet is settled here and never sent; one in flight is withdrawn at the
   * relay, and its worker settles it with the answer (CANCELLED, or the reading that crossed the cancel).
   */
  const cancelTarget = (i) => {
    const target = targets[i];
    if (target.answered || target.controller.signal.aborted) return;
    target.controller.abort();
    const button = rows[i]?.querySelector('.row-cancel');
    if (button) button.disabled = true;
    if (!target.sent) settle(i, { type: 'error', code: 'CANCELLED', message: t('readCancelled') });
  };
  const rows = targets.slice(0, MAX_RESULT_ROWS).map(({ c, m }, i) => {
    const tr = el('tr', 'pending');
    tr.dataset.concentrator = c.id;
    tr.dataset.meter = m.address;
    // While the read waits, its four empty answer cells are one cell holding its Cancel (the table keeps its
    // width at 1366×768); fillRow puts the four cells back.
    const actions = el('td', 'row-actions');
    actions.colSpan = 4;
    const cancel = el('button', 'row-cancel', t('cancel'));
    cancel.type = 'button';
    cancel.dataset.i18n = 'cancel';
    cancel.dataset.i18nTitle = 'cancelHint';
    cancel.title = t('cancelHint');
    cancel.addEventListener('click', () => cancelTarget(i));
    actions.append(cancel);
    const result = el('td', 'result', t('pending'));
    result.dataset.i18n = 'pending';
    tr.append(el('td', '', c.alias ?? c.id), el('td', 'mono', shortAddress(m.address)), actions, result);
    return tr;
  });
  body.replaceChildren(...rows);
  const cut = $('results-cut');
  cut.hidden = targets.length <= MAX_RESULT_ROWS;
  cut.textContent = `${MAX_RESULT_ROWS} / ${targets.length} ${t('rowsCut')}`;
  progress.max = Math.max(1, targets.length);
  progress.value = 0;
  state.readAll = job;
  showProgress();
  $('read-stop').disabled = false;
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      const target = targets[i];
      if (target.controller.signal.aborted) continue; // cancelled before its turn: settled already
      target.sent = true;
      const started = performance.now();
      const answer = await connection.request(
        { type: 'read', concentrator: target.c.id, meter: target.m.address },
        { signal: target.controller.signal },
      );
      target.answered = true;
      noteResult(target.c.id, target.m.address, answer, performance.now() - started);
      settle(i, answer);
    }
  };
  await Promise.all(Array.from({ length: READ_ALL_CONCURRENCY }, worker));
  if (state.readAll === job) {
    state.readAll = undefined;
    $('read-stop').disabled = true;
  }
}

function fillRow(tr, answer) {
  const [concentrator, meter] = tr.children;
  const value = el('td', 'num');
  const unit = el('td');
  const valve = el('td');
  const latency = el('td', 'num');
  const result = el('td', 'result');
  if (answer.type === 'reading') {
    tr.className = 'done';
    value.textContent = String(answer.value);
    unit.textContent = answer.unit;
    valve.textContent = answer.status ? t(answer.status.valve) : '—';
    latency.textContent = answer.latencyMs === undefined ? '' : `${Math.round(answer.latencyMs)} ms`;
    result.textContent = t('ok');
    result.dataset.i18n = 'ok';
  } else if (cancelled(answer)) {
    tr.className = 'cancelled';
    tr.dataset.code = answer.code;
    result.textContent = t('cancelled');
    result.dataset.i18n = 'cancelled';
    result.title = t('readCancelled');
    result.dataset.i18nTitle = 'readCancelled';
  } else {
    tr.className = 'failed';
    tr.dataset.code = answer.code;
    result.textContent = answer.code;
    result.title = answer.message ?? '';
  }
  tr.replaceChildren(concentrator, meter, value, unit, valve, latency, result);
}

// ---- latency chart ----

function addLatency(ms) {
  const { xs, ys } = state.chart;
  xs.push(Date.now() / 1000);
  ys.push(Math.round(ms * 10) / 10);
  if (xs.length > MAX_CHART_POINTS) {
    xs.splice(0, xs.length - MAX_CHART_POINTS);
    ys.splice(0, ys.length - MAX_CHART_POINTS);
  }
  state.chart.plot?.setData([xs, ys]);
}

function createChart() {
  const box = $('latency-chart');
  if (typeof uPlot !== 'function') return; // the page still works without its chart
  const size = () => ({
    width: Math.max(200, box.clientWidth),
    height: Math.max(100, box.clientHeight - 30),
  });
  state.chart.plot = new uPlot(
    {
      ...size(),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // At least a minute across, so a handful of reads is not spread over a range of years; before the first
        // read the minute up to now (with no data uPlot would otherwise draw an axis from 1970).
        x: {
          time: true,
          range: (_u, min, max) => {
            if (!Number.isFinite(min) || !Number.isFinite(max) || state.chart.xs.length === 0) {
              const now = Date.now() / 1000;
              return [now - 60, now + 2];
            }
            return max - min < 60 ? [max - 60, max + 2] : [min, max];
          },
        },
        y: { range: (_u, min, max) => [0, Math.max(10, max * 1.15, min)] },
      },
      series: [
        {},
        {
          label: 'ms',
          stroke: '#1f6feb',
          width: 1,
          points: { show: true, size: 6, fill: '#1f6feb' },
          paths: () => null, // points only: reads are separate events, not a continuous signal
        },
      ],
      axes: [
        // Clock time only: uPlot's default adds a second line with the date under some ticks, and at this width
        // those date lines ran into each other ("12/6/26 2:59am3:00am").
        { space: 70, values: (_u, splits) => splits.map((s) => clockTime(new Date(s * 1000).toISOString())) },
        { size: 44, label: 'ms', labelSize: 14 },
      ],
    },
    [state.chart.xs, state.chart.ys],
    box,
  );
  new ResizeObserver(() => state.chart.plot?.setSize(size())).observe(box);
}

// ---- frame log ----

function subscribeFrames() {
  const f = state.frames;
  if (f.subscription) connection.unsubscribe(f.subscription);
  f.closed = undefined;
  f.subscription = connection.subscribe(f.filter, onFrame, (error) => {
    f.subscription = undefined;
    f.closed = `${t('streamClosed')}: ${error.code}`;
    renderFrameCount();
  });
  renderFrameCount();
}

function onFrame(frame) {
  const f = state.frames;
  if (f.paused) {
    f.waiting.push(frame);
    if (f.waiting.length > MAX_FRAME_LINES) f.waiting.splice(0, f.waiting.length - MAX_FRAME_LINES);
    renderFrameCount();
    return;
  }
  appendFrames([frame]);
}

function appendFrames(frames) {
  const log = $('frame-log');
  for (const frame of frames) log.prepend(frameLine(frame));
  while (log.childElementCount > MAX_FRAME_LINES) log.lastElementChild.remove();
  renderFrameCount();
}

function frameLine(frame) {
  const li = el('li', frame.direction);
  li.dataset.afn = String(frame.afn);
  li.dataset.direction = frame.direction;
  li.dataset.concentrator = frame.concentrator;
  if (frame.meter) li.dataset.meter = frame.meter;
  const line = el('div', 'line');
  line.append(
    el('time', '', clockTime(frame.at, true)),
    el('span', 'dir', frame.direction === 'down' ? '↓' : '↑'),
    el('span', 'conc', frame.concentrator),
    el('span', 'afn', `AFN ${frame.afn.toString(16).toUpperCase().padStart(2, '0')}H`),
    el('span', 'summary', frame.summary.replace(/^AFN [0-9A-F]{2}H /, '')),
  );
  const hex = el('pre', 'hex', `${frame.summary}\n${frame.hex}${frame.truncated ? ' …' : ''}`);
  hex.hidden = true;
  li.append(line, hex);
  li.addEventListener('click', () => {
    hex.hidden = !hex.hidden;
  });
  return li;
}

function renderFrameCount() {
  const f = state.frames;
  const parts = [`${$('frame-log').childElementCount} ${t('framesShown')}`];
  if (f.paused) parts.push(`${f.waiting.length} ${t('waitingWhilePaused')}`);
  if (f.closed) parts.push(f.closed);
  $('frames-count').textContent = parts.join(' · ');
}

function togglePause() {
  const f = state.frames;
  f.paused = !f.paused;
  const button = $('frames-pause');
  button.dataset.i18n = f.paused ? 'resume' : 'pause';
  button.textContent = t(button.dataset.i18n);
  if (!f.paused) {
    const waiting = f.waiting;
    f.waiting = [];
    appendFrames(waiting);
  }
  renderFrameCount();
}

// ---- helpers ----

function el(tag, className = '', text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Local wall-clock time of an ISO instant (with milliseconds for frames). */
function clockTime(iso, withMs = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${hms}.${pad(d.getMilliseconds(), 3)}` : hms;
}

// ---- wiring ----

function start() {
  applyLabels();
  $('lang').addEventListener('click', () =>
    toggleLanguage(() => {
      renderTree();
      renderFrameCount();
    }),
  );
  $('search').addEventListener('input', () => renderTree());
  $('read-one').addEventListener('click', () => void readSelected());
  $('read-cancel').addEventListener('click', cancelSelected);
  $('valve-open').addEventListener('click', () => void valve('open'));
  $('valve-close').addEventListener('click', () => void valve('close'));
  $('read-fleet').addEventListener('click', () => void runReadAll(state.fleet, t('fleet')));
  $('read-stop').addEventListener('click', () => state.readAll?.stop());
  $('frame-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    const concentrator = $('filter-concentrator').value.trim();
    const meter = $('filter-meter').value.trim();
    state.frames.filter = { concentrator: concentrator || undefined, meter: meter || undefined };
    $('frame-log').replaceChildren();
    subscribeFrames();
  });
  $('frames-pause').addEventListener('click', togglePause);
  $('frames-clear').addEventListener('click', () => {
    $('frame-log').replaceChildren();
    state.frames.waiting = [];
    renderFrameCount();
  });
  // Keep the token (and the language) when switching to the legacy page.
  const params = new URLSearchParams(location.search);
  params.set('lang', language());
  $('legacy-link').href = `/legacy?${params}`;
  createChart();
  subscribeFrames();
  connection.connect();
}

start();
