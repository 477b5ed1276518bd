// The Plexus dashboard: polls /api/graph every 2 s and draws the mesh; a click on a Service
// shows its stat, its routes and split weights, and its live requests (/api/tap).
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 1000;
const HEIGHT = 700;
const FAILING_BELOW = 0.95;
const TAP_LINES = 50;

/** Every node ever seen, in a stable order, so the layout does not jump between polls. */
const known = new Map();
let selected = null;
let tapAbort = null;

function el(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function html(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const percent = (share) => (share === null ? '-' : `${(share * 100).toFixed(1)}%`);
const ms = (seconds) => (seconds === null ? '-' : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 0)} ms`);
const failing = (row) => row.successRate !== null && row.successRate < FAILING_BELOW;

function layout(keys) {
  const positions = new Map();
  const radius = Math.min(WIDTH, HEIGHT) / 2 - 90;
  keys.forEach((key, i) => {
    const angle = (2 * Math.PI * i) / keys.length - Math.PI / 2;
    positions.set(key, keys.length === 1 ? { x: WIDTH / 2, y: HEIGHT / 2 } : { x: WIDTH / 2 + radius * Math.cos(angle), y: HEIGHT / 2 + radius * Math.sin(angle) });
  });
  return positions;
}

function drawNode(key, kind, row, position) {
  const group = el('g', { class: `node ${kind}${row && failing(row) ? ' failing' : ''}${key === selected ? ' selected' : ''}`, 'data-key': key, 'data-rps': row ? row.rps.toFixed(3) : '0', transform: `translate(${position.x},${position.y})` });
  group.append(el('rect', { x: -85, y: -24, width: 170, height: 48, rx: kind === 'caller' ? 18 : 3 }));
  group.append(el('text', { y: -7 }, key));
  group.append(el('text', { y: 12, class: 'sub' }, row ? `${row.rps.toFixed(1)} rps · ${percent(row.successRate)}` : kind === 'caller' ? 'caller' : 'no requests'));
  if (kind === 'service') group.addEventListener('click', () => select(key));
  return group;
}

function drawEdge(edge, from, to) {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const length = Math.hypot(dx, dy) || 1;
  // Stop at the boxes' edges (about 45 px from their centres along the line).
  const trim = (p, sign) => ({ x: p.x + (sign * dx * 45) / length, y: p.y + (sign * dy * 45) / length });
  const a = trim(from, 1);
  const b = trim(to, -1);
  const group = el('g', { class: `edge${failing(edge) ? ' failing' : ''}`, 'data-from': edge.from, 'data-to': edge.to, 'data-rps': edge.rps.toFixed(3), 'data-success': edge.successRate === null ? '' : edge.successRate.toFixed(4) });
  group.append(el('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'marker-end': 'url(#arrow)' }));
  group.append(el('text', { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 6 }, `${edge.rps.toFixed(1)} rps · ${percent(edge.successRate)}`));
  return group;
}

function render(graph) {
  const services = new Map(graph.services.map((row) => [row.key, row]));
  for (const row of graph.services) if (!known.has(row.key)) known.set(row.key, 'service');
  for (const edge of graph.edges) if (!known.has(edge.from)) known.set(edge.from, services.has(edge.from) ? 'service' : 'caller');
  const keys = [...known.keys()].sort((a, b) => (known.get(a) === known.get(b) ? (a < b ? -1 : 1) : known.get(a) === 'caller' ? 1 : -1));
  const positions = layout(keys);
  const edges = document.getElementById('edges');
  const nodes = document.getElementById('nodes');
  edges.replaceChildren(...graph.edges.filter((e) => positions.has(e.from) && positions.has(e.to)).map((e) => drawEdge(e, positions.get(e.from), positions.get(e.to))));
  nodes.replaceChildren(...keys.map((key) => drawNode(key, known.get(key), services.get(key), positions.get(key))));
  const problems = graph.unreachable.length > 0 ? ` · ${graph.unreachable.join('; ')}` : '';
  document.getElementById('status').textContent = `${graph.agents} agent${graph.agents === 1 ? '' : 's'} · window ${graph.windowSeconds.toFixed(1)} s · updated ${new Date().toLocaleTimeString()}${problems}`;
}

async function poll() {
  try {
    const answer = await fetch('/api/graph');
    render(await answer.json());
  } catch (error) {
    document.getElementById('status').textContent = `cannot reach the dashboard server: ${error}`;
  }
}

function statTable(title, rows) {
  const table = html('table');
  const head = html('tr');
  for (const name of [title, 'success', 'rps', 'p50', 'p95', 'p99', 'requests']) head.append(html('th', name));
  table.append(head);
  for (const row of rows) {
    const tr = html('tr');
    tr.append(html('td', row.key));
    for (const value of [percent(row.successRate), row.rps.toFixed(2), ms(row.p50), ms(row.p95), ms(row.p99), String(row.requests)]) tr.append(html('td', value, 'num'));
    table.append(tr);
  }
  return table;
}

function destinationText(destination) {
  if (destination.rejected) return `rejected: ${destination.rejected}`;
  const total = destination.backends.reduce((sum, b) => sum + b.weight, 0) || 1;
  const parts = destination.backends.map((b) => `${b.service} ${b.weight} (${((b.weight / total) * 100).toFixed(0)}%)`);
  return `${destination.split ? `TrafficSplit ${destination.split}: ` : ''}${parts.join(', ')}`;
}

function renderService(view) {
  const stat = document.getElementById('stat');
  if (view.stat === null || view.stat.services.length === 0) stat.replaceChildren(html('p', 'no requests in the window', 'muted'));
  else {
    const parts = [statTable('service', view.stat.services), statTable('from → service', view.stat.sources)];
    if (view.stat.backends.length > 0) parts.push(statTable('split → backend', view.stat.backends));
    stat.replaceChildren(...parts);
  }
  const routes = document.getElementById('routes');
  if (view.routes === null) routes.replaceChildren(html('p', `not available: ${view.routesProblem}`, 'muted'));
  else {
    const list = html('ul');
    for (const port of view.routes) {
      list.append(html('li', `port ${port.port} (${port.trafficType}): ${destinationText(port.destination)}`));
      for (const rule of port.rules) list.append(html('li', `  when ${rule.matches.join(' or ')}: ${destinationText(rule.destination)}`));
    }
    routes.replaceChildren(list);
  }
}

async function readTap(service, signal) {
  const list = document.getElementById('tap');
  list.replaceChildren();
  const answer = await fetch(`/api/tap?service=${encodeURIComponent(service)}`, { signal });
  if (!answer.ok) {
    list.append(html('li', `tap refused: ${(await answer.json()).error}`, 'failed'));
    return;
  }
  const reader = answer.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const line of lines) {
      if (line === '') continue;
      const event = JSON.parse(line);
      const text = event.type === 'problem' ? event.message
        : `${new Date().toLocaleTimeString()} ${event.source} → ${event.destination} ${event.method} ${event.path} ${event.status} ${event.latencyMs.toFixed(1)} ms${event.endpoint ? ` @${event.endpoint}` : ''}`;
      list.prepend(html('li', text, event.failed || event.type === 'problem' ? 'failed' : ''));
      while (list.children.length > TAP_LINES) list.lastChild.remove();
    }
  }
}

async function refreshPanel() {
  if (selected === null) return;
  const answer = await fetch(`/api/service?name=${encodeURIComponent(selected)}`);
  renderService(await answer.json());
}

function select(key) {
  selected = key;
  document.getElementById('panel').hidden = false;
  document.getElementById('panel-title').textContent = key;
  if (tapAbort) tapAbort.abort();
  tapAbort = new AbortController();
  readTap(key, tapAbort.signal).catch(() => undefined);
  refreshPanel();
  poll();
}

document.getElementById('close').addEventListener('click', () => {
  selected = null;
  if (tapAbort) tapAbort.abort();
  document.getElementById('panel').hidden = true;
  poll();
});

poll();
setInterval(() => {
  poll();
  refreshPanel();
}, 2000);
