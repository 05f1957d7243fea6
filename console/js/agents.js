// Agents: a card per agent with its figures for the period and the change
// against the period before, a timeline of traces per hour, and cost and
// latency over time for the selected agents. Every figure comes from
// /api/stats (lg-store's aggregates, from its per-trace summaries), never
// from fetching traces: the cards with their last-seen time from one call
// (and one for the period before), the timeline of every agent from one
// by=agent,hour call.
import { h, append, clear, fmtInt, fmtPct, fmtCost, fmtMs, fmtTime, fmtAgo, setPct, select, loading, showError, SEVERITIES } from './dom.js';
import { get } from './api.js';
import { RANGES, window_, hourKey, hoursBetween } from './period.js';
import { chartBox, chartLib, color } from './charts.js';

const SORTS = [
	['traces', 'Trace count'], ['name', 'Agent name'], ['success', 'Success rate'],
	['errors', 'Error rate'], ['duration', 'Avg duration'], ['cost', 'Total cost'],
	['violations', 'Violations'], ['lastSeen', 'Last active'],
];
const state = { range: '24h', sort: 'traces', search: '', selected: null };

const NONE = '(none)';

function sortKey(g, by) {
	switch (by) {
	case 'name': return g.key.toLowerCase();
	case 'success': return -(g.successRate ?? -1);
	case 'errors': return (g.successRate ?? 2);
	case 'duration': return -(g.avgDuration ?? -1);
	case 'cost': return -(g.cost ?? 0);
	case 'violations': return -(g.violations?.total ?? 0);
	case 'lastSeen': return -(Date.parse(g.lastSeen) || 0);
	default: return -g.traces;
	}
}

function sorted(groups) {
	const gs = groups.slice();
	gs.sort((a, b) => {
		const x = sortKey(a, state.sort), y = sortKey(b, state.sort);
		return x < y ? -1 : x > y ? 1 : a.key.localeCompare(b.key);
	});
	return gs;
}

// "▲ +12" / "▼ -0.5 pp": the change against the previous period.
function trend(cur, prev, fmt, { higherIsBetter = true } = {}) {
	if (prev === undefined || prev === null || cur === null || cur === undefined) return null;
	const d = cur - prev;
	if (Math.abs(d) < 1e-9) return h('span.trend.flat', { title: 'same as the previous period' }, '= 0');
	const good = (d > 0) === higherIsBetter;
	return h('span.trend.' + (good ? 'up' : 'down'), { title: 'previous period: ' + fmt(prev) },
		(d > 0 ? '▲ +' : '▼ −') + fmt(Math.abs(d)));
}

function card(g, prev, selected, onToggle, w) {
	const v = g.violations || {};
	const errRate = g.successRate === null || g.successRate === undefined ? null : 1 - g.successRate;
	return h('article.card.agent' + (selected ? '.selected' : ''), { 'data-agent': g.key },
		h('header', null,
			h('h3', null, g.key === NONE ? g.key : h('a', { href: '#/traces?' + new URLSearchParams(w && w.from
				? { agent: g.key, since: w.from, until: w.to } : { agent: g.key, range: 'all' }).toString(),
			title: 'Traces of ' + g.key }, g.key)),
			h('label.pick', null, h('input', { type: 'checkbox', checked: selected, disabled: g.key === NONE,
				onchange: (e) => onToggle(g.key, e.target.checked) }), ' Select')),
		h('dl.metrics', null,
			metric('Traces', fmtInt(g.traces), 'traces', trend(g.traces, prev?.traces, fmtInt)),
			metric('Success rate', fmtPct(g.successRate), 'success',
				trend(g.successRate, prev?.successRate, (x) => (x * 100).toFixed(1) + ' pp')),
			metric('Cost', fmtCost(g.cost), 'cost', trend(g.cost, prev?.cost, fmtCost, { higherIsBetter: false })),
			metric('Avg latency', fmtMs(g.avgDuration), 'avg',
				trend(g.avgDuration, prev?.avgDuration, fmtMs, { higherIsBetter: false })),
			metric('p95 latency', fmtMs(g.p95Duration), 'p95', null),
			metric('Tokens', fmtInt(g.tokens), 'tokens', null),
			metric('Error rate', fmtPct(errRate), 'errors', null),
			metric('Last seen', g.lastSeen ? fmtAgo(g.lastSeen) : '—', 'last', null, g.lastSeen ? fmtTime(g.lastSeen) : null)),
		h('div.sevs', { 'data-field': 'violations' },
			h('span.muted', null, 'Violations ', h('b', { 'data-field': 'violations-total' }, fmtInt(v.total ?? 0))),
			SEVERITIES.map((s) => h('span.badge.sev-' + s + ((v[s] ?? 0) ? '' : '.zero'),
				{ 'data-sev': s, title: s }, s + ' ' + fmtInt(v[s] ?? 0)))));
}

function metric(label, value, field, extra, title) {
	return h('div.metric', null, h('dt', null, label),
		h('dd', { 'data-field': field, title }, value, extra ? ' ' : null, extra));
}

export async function render(root, ctx) {
	root.appendChild(h('h1', null, 'Agents'));
	const range = select('range', RANGES, state.range, (e) => { state.range = e.target.value; reload(); });
	const sort = select('sort', SORTS, state.sort, (e) => { state.sort = e.target.value; drawCards(); });
	const search = h('input', { type: 'search', placeholder: 'Search agents…', value: state.search, name: 'search',
		oninput: (e) => { state.search = e.target.value; drawCards(); } });
	const period = h('p.muted.period');
	root.appendChild(h('div.toolbar', null, h('label', null, 'Period ', range), h('label', null, 'Sort by ', sort), search,
		h('button', { type: 'button', onclick: () => selectTop(5) }, 'Top 5'),
		h('button', { type: 'button', onclick: () => { state.selected = new Set(); drawCards(); drawSeries(); } }, 'Clear selection')));
	root.appendChild(period);
	const cards = h('div.cards');
	const timeline = h('section.timeline');
	const charts = h('section.charts');
	append(root, cards, h('h2', null, 'Timeline: traces per hour'), timeline, h('h2', null, 'Cost and latency over time'), charts);

	let groups = [], prevBy = new Map(), w = null, series = new Map(), chartObjs = [];
	let seriesGen = 0;

	function selectTop(n) {
		state.selected = new Set(sorted(groups).filter((g) => g.key !== NONE).slice(0, n).map((g) => g.key));
		drawCards();
		drawSeries();
	}

	function drawCards() {
		clear(cards);
		const q = state.search.trim().toLowerCase();
		const shown = sorted(groups).filter((g) => !q || g.key.toLowerCase().includes(q));
		if (!shown.length) cards.appendChild(h('p.muted', null, groups.length ? 'No agent matches.' : 'No traces in this period.'));
		for (const g of shown)
			cards.appendChild(card(g, prevBy.get(g.key), state.selected.has(g.key), (k, on) => {
				if (on) state.selected.add(k); else state.selected.delete(k);
				drawCards();
				drawSeries();
			}, w));
	}

	// Every agent's hours over the period, in one call
	// (GET /api/stats?by=agent,hour), asked once per period.
	let hourly = null;
	async function drawSeries() {
		const gen = ++seriesGen;
		const agents = [...state.selected];
		for (const c of chartObjs) c.destroy();
		chartObjs = [];
		const into = series;   // a reload meanwhile starts a map of its own
		if (!hourly) hourly = get('/api/stats', { by: 'agent,hour', since: w.from, until: w.to }).then((d) => {
			for (const g of d.groups || []) into.set(g.key, g.groups || []);
		});
		await Promise.all([hourly, chartLib()]);
		if (gen !== seriesGen || !ctx.live()) return;
		let hours;
		if (w.from) hours = hoursBetween(w.from, w.to);
		else {
			const keys = agents.flatMap((a) => (series.get(a) || []).map((g) => hourKey(g.key))).filter(Boolean).sort();
			hours = keys.length ? hoursBetween(keys[0] + ':00:00Z', new Date(Date.parse(keys[keys.length - 1] + ':00:00Z') + 3600e3).toISOString()) : [];
		}
		drawTimeline(agents, hours);
		drawCharts(agents, hours);
	}

	function byHour(agent) {
		const m = new Map();
		for (const g of series.get(agent) || []) { const k = hourKey(g.key); if (k) m.set(k, g); }
		return m;
	}

	function drawTimeline(agents, hours) {
		clear(timeline);
		if (!agents.length) { timeline.appendChild(h('p.muted', null, 'Select agents to see their timeline.')); return; }
		let max = 1;
		const maps = agents.map((a) => { const m = byHour(a); for (const g of m.values()) max = Math.max(max, g.traces); return m; });
		const axis = h('div.lane.axis', null, h('span.lane-label'), h('div.cells', null,
			hours.map((hr, i) => h('span.tick', null, i % Math.max(1, Math.ceil(hours.length / 8)) === 0 ? hr.slice(5).replace('T', ' ') + 'h' : ''))));
		timeline.appendChild(axis);
		agents.forEach((a, i) => {
			const m = maps[i];
			const cells = h('div.cells');
			for (const hr of hours) {
				const g = m.get(hr);
				const cell = h('span.cell', { 'data-hour': hr });
				if (g && g.traces) {
					const errors = Math.round(g.traces * (1 - (g.successRate ?? 1)));
					const viol = g.violations?.total ?? 0;
					const bar = h('span.bar');
					setPct(bar, 'height', 0.15 + 0.85 * g.traces / max);
					cell.appendChild(bar);
					if (errors) cell.appendChild(h('span.mark.err'));
					if (viol) cell.appendChild(h('span.mark.viol'));
					cell.title = hr.replace('T', ' ') + ':00Z — ' + g.traces + ' traces, ' + errors + ' errors, ' +
						viol + ' violations, ' + fmtCost(g.cost) + ', avg ' + fmtMs(g.avgDuration);
					cell.dataset.traces = String(g.traces);
				}
				cells.appendChild(cell);
			}
			timeline.appendChild(h('div.lane', { 'data-agent': a }, h('span.lane-label', { title: a }, a), cells));
		});
		timeline.appendChild(h('p.legend.muted', null, h('span.mark.err'), ' errors ', h('span.mark.viol'), ' violations; bar height: traces in the hour'));
	}

	function drawCharts(agents, hours) {
		clear(charts);
		if (!agents.length) return;
		const labels = hours.map((hr) => hr.slice(5).replace('T', ' ') + 'h');
		const ds = (field) => agents.map((a, i) => {
			const m = byHour(a);
			return { label: a, data: hours.map((hr) => (m.get(hr)?.[field] ?? null)), borderColor: color(i),
				backgroundColor: color(i), spanGaps: true, pointRadius: 1.5, borderWidth: 1.5 };
		});
		const cost = chartBox('Cost per hour (USD)', { type: 'line', data: { labels, datasets: ds('cost') } });
		const lat = chartBox('Average latency per hour (ms)', { type: 'line', data: { labels, datasets: ds('avgDuration') } });
		append(charts, cost.el, lat.el);
		for (const c of [cost.chart, lat.chart]) if (c) chartObjs.push(c);
	}

	async function reload() {
		ctx.busy();
		loading(cards, 'agents');
		w = window_(state.range);
		series = new Map();
		hourly = null;
		period.textContent = w.from ? 'From ' + fmtTime(w.from) + ' to ' + fmtTime(w.to) + ', compared with the ' +
			RANGES.find((r) => r[0] === state.range)[1].toLowerCase().replace('last ', '') + ' before' : 'All traces in the store';
		period.dataset.from = w.from || '';
		period.dataset.to = w.to || '';
		try {
			const [cur, prev] = await Promise.all([
				get('/api/stats', { by: 'agent', since: w.from, until: w.to }),
				w.from ? get('/api/stats', { by: 'agent', since: w.prevFrom, until: w.prevTo }) : null,
			]);
			if (!ctx.live()) return;
			groups = cur.groups || [];
			prevBy = new Map((prev?.groups || []).map((g) => [g.key, g]));
			if (!state.selected) state.selected = new Set(groups.filter((g) => g.key !== NONE).slice(0, 5).map((g) => g.key));
			drawCards();
			ctx.paint();
			await drawSeries();
			if (!ctx.live()) return;
		} catch (e) {
			if (!ctx.live()) return;
			clear(cards);
			showError(cards, e);
		}
		ctx.ready();
	}

	await reload();
	return { cleanup: () => { for (const c of chartObjs) c.destroy(); } };
}
