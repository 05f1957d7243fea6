// Violations: the list filtered as the API allows (severity, status, policy,
// agent, time), masked evidence with its location and context, acknowledge
// and resolve with notes (PATCH, so the CLI sees the same), and counts per
// policy and severity from /api/stats.
import { h, append, clear, onActivate, fmtInt, fmtTime, select, loading, showError, sevBadge, statusBadge, SEVERITIES } from './dom.js';
import { api, get } from './api.js';
import { RANGES, window_ } from './period.js';
import { chartBox, chartLib, SEV_COLORS } from './charts.js';
import { agentNames, policyNames } from './names.js';

const LIMIT = 50;
const DEFAULTS = { severity: '', status: '', policy: '', agent: '', range: '24h' };
const state = Object.assign({}, DEFAULTS);

export async function render(root, ctx) {
	root.appendChild(h('h1', null, 'Violations'));
	// A link with filters (#/violations?policy=pii) sets them all: the
	// ones it does not name go back to their defaults.
	if ([...ctx.params.keys()].length) {
		Object.assign(state, DEFAULTS);
		for (const k of Object.keys(state)) if (ctx.params.has(k)) state[k] = ctx.params.get(k);
	}
	const filters = h('form.toolbar.filters', { onsubmit: (e) => e.preventDefault() });
	const summary = h('section.summary');
	const list = h('section.list');
	const period = h('p.muted.period');
	append(root, filters, period, summary, list);

	let charts = [];
	let policies = [], agents = [];

	function drawFilters() {
		clear(filters);
		const on = (k) => (e) => { state[k] = e.target.value; reload(); };
		append(filters,
			h('label', null, 'Severity ≥ ', select('severity', [['', 'All'], ...SEVERITIES], state.severity, on('severity'))),
			h('label', null, 'Status ', select('status', [['', 'All'], 'new', 'acknowledged', 'resolved'], state.status, on('status'))),
			h('label', null, 'Policy ', select('policy', [['', 'All'], ...policies], state.policy, on('policy'))),
			h('label', null, 'Agent ', select('agent', [['', 'All'], ...agents], state.agent, on('agent'))),
			h('label', null, 'Time ', select('range', RANGES.filter((r) => r[0] !== '1h'), state.range, on('range'))));
	}

	function drawSummary(byPolicy, byDay) {
		for (const c of charts) c.destroy();
		charts = [];
		clear(summary);
		const totals = { critical: 0, high: 0, medium: 0, low: 0, total: 0 };
		for (const g of byPolicy) for (const k of Object.keys(totals)) totals[k] += g.violations?.[k] ?? 0;
		summary.appendChild(h('div.sevtotals', null, SEVERITIES.map((s) =>
			h('div.kpi.sev-' + s, { 'data-sev': s }, h('span.kpi-value', null, fmtInt(totals[s])), h('span.kpi-label', null, s)))));
		const table = h('table.counts', null,
			h('thead', null, h('tr', null, h('th', null, 'Policy'), SEVERITIES.map((s) => h('th.num', null, s)), h('th.num', null, 'Total'), h('th.num', null, 'Traces'))),
			h('tbody', null, byPolicy.map((g) => h('tr', { 'data-policy': g.key },
				h('td', null, h('a', { href: '#/violations?policy=' + encodeURIComponent(g.key) }, g.key)),
				SEVERITIES.map((s) => h('td.num', null, fmtInt(g.violations?.[s] ?? 0))),
				h('td.num', { 'data-field': 'total' }, fmtInt(g.violations?.total ?? 0)),
				h('td.num', null, fmtInt(g.traces))))));
		const days = byDay.slice().sort((a, b) => String(a.key).localeCompare(String(b.key)));
		const chart = chartBox('Violations per day by severity', {
			type: 'bar',
			data: { labels: days.map((d) => String(d.key).slice(0, 10)),
				datasets: SEVERITIES.map((s) => ({ label: s, data: days.map((d) => d.violations?.[s] ?? 0), backgroundColor: SEV_COLORS[s] })) },
			options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
		}, 'small');
		if (chart.chart) charts.push(chart.chart);
		append(summary, h('div.split', null, h('div', null, h('h2', null, 'Per policy'), table), chart.el));
	}

	// The page's line, and "of N" once the total comes (without it when
	// total is undefined).
	function drawShown(el, vs, total) {
		const from = page * LIMIT;
		if (total !== undefined) el.dataset.total = String(total);
		el.textContent = vs.length ? 'Violations ' + fmtInt(from + 1) + '–' + fmtInt(from + vs.length) +
			(total !== undefined ? ' of ' + fmtInt(total) : '') : 'No violation matches.';
	}

	// Returns the setter of the total.
	function drawList(res) {
		clear(list);
		const vs = res.violations || [];
		const shown = h('p.muted', { 'data-field': 'shown' });
		drawShown(shown, vs, res.total);
		list.appendChild(shown);
		// One tbody per violation (its row and its details), redrawn whole
		// after a status change. The details are made when first opened,
		// not for every row of the page before it shows.
		const group = (v, open) => {
			const cell = h('td', { colspan: 7 });
			const detail = h('tr.detail', { hidden: true }, cell);
			const toggle = () => {
				if (!cell.firstChild) cell.appendChild(evidence(v, (nv) => { Object.assign(v, nv); tb.replaceWith(group(v, true)); }));
				detail.hidden = !detail.hidden;
			};
			const tb = h('tbody.violation', { 'data-id': v.id },
				onActivate(h('tr.row', { tabindex: 0 },
					h('td.nowrap', null, fmtTime(v.traceTimestamp || v.detectedAt)),
					h('td', null, sevBadge(v.severity)),
					h('td', null, v.name || v.policy),
					h('td', null, v.agent || '—'),
					h('td', null, h('a', { href: '#/traces/' + encodeURIComponent(v.externalId || v.traceId || ''),
						onclick: (e) => e.stopPropagation() }, String(v.externalId || v.traceId || '').slice(0, 12))),
					h('td.msg', null, v.message),
					h('td', { 'data-field': 'status' }, statusBadge(v.status))), toggle),
				detail);
			if (open) toggle();
			return tb;
		};
		const table = h('table.violations', null,
			h('thead', null, h('tr', null, ['Time', 'Severity', 'Policy', 'Agent', 'Trace', 'Message', 'Status'].map((t) => h('th', null, t)))));
		for (const v of vs) table.appendChild(group(v, false));
		list.appendChild(table);
		return (total) => drawShown(shown, vs, total);
	}

	let cursors = [null], page = 0;
	async function reload() { cursors = [null]; page = 0; await load(); }

	// The list is what the page is for: it is asked alone, without its
	// total, and drawn as soon as it comes. Its total (a walk of the whole
	// range), the counts per policy and per day, and the policy names for
	// the filter are asked after it: asked beside it, each would be one
	// more process on the server taking the cores the list needs. (The
	// total is then a second read: a sync in between can make it count
	// what the page does not show yet.)
	async function load() {
		const w = window_(state.range);
		period.textContent = w.from ? 'Traces from ' + fmtTime(w.from) + ' to ' + fmtTime(w.to) : 'All traces in the store';
		period.dataset.from = w.from || '';
		period.dataset.to = w.to || '';
		ctx.busy();
		loading(list, 'violations');
		clear(summary);
		const f = { since: w.from, until: w.to, agent: state.agent, policy: state.policy };
		const q = { severity: state.severity, status: state.status, policy: state.policy, agent: state.agent, since: w.from, until: w.to };
		try {
			const res = await get('/api/policies/violations', Object.assign({ limit: LIMIT, cursor: cursors[page], total: 'false' }, q));
			if (!ctx.live()) return;
			const totalled = get('/api/policies/violations', Object.assign({ limit: 1 }, q));
			const counted = Promise.all([get('/api/stats', Object.assign({ by: 'policy' }, f)), get('/api/stats', Object.assign({ by: 'day' }, f))]);
			const pols = policies.length ? null : policyNames();
			drawFilters();
			const setTotal = drawList(res);
			const next = res.nextCursor || null;
			list.appendChild(h('div.pager', null,
				h('button', { type: 'button', disabled: page === 0, 'data-action': 'prev', onclick: () => { page--; load(); } }, '← Previous'),
				h('button', { type: 'button', disabled: !next, 'data-action': 'next', onclick: () => { cursors[page + 1] = next; page++; load(); } }, 'Next →')));
			ctx.paint();
			setTotal((await totalled).total);
			if (!ctx.live()) return;
			if (pols) {
				policies = await pols;
				if (!ctx.live()) return;
				drawFilters();
			}
			const [[byPolicy, byDay]] = await Promise.all([counted, chartLib()]);
			if (!ctx.live()) return;
			drawSummary((byPolicy.groups || []).filter((g) => !state.policy || g.key === state.policy), byDay.groups || []);
		} catch (e) {
			if (!ctx.live()) return;
			clear(list);
			showError(list, e);
		}
		ctx.ready();
		agentNames(state.range).then((names) => {
			if (!ctx.live() || names.join('\n') === agents.join('\n')) return;
			agents = names;
			drawFilters();
		});
	}

	drawFilters();
	await reload();
	return { cleanup: () => { for (const c of charts) c.destroy(); } };
}

// The evidence of one violation (masked by lg-policy: the match and its
// context never hold the full secret) and the triage form.
export function evidence(v, onUpdated) {
	const e = v.evidence || {};
	const rows = [];
	const add = (k, val) => { if (val !== undefined && val !== null && val !== '') rows.push(h('dt', null, k), h('dd', null, String(val))); };
	add('Policy', (v.name ? v.name + ' (' + v.policy + ')' : v.policy));
	add('Location', e.location);
	if (e.start !== undefined) add('Position', 'characters ' + e.start + '–' + e.end);
	add('Detector', e.detector);
	add('Match', e.match);
	add('Actual', e.actual);
	add('Limit', e.limit);
	add('Detected', v.detectedAt && fmtTime(v.detectedAt));
	add('Acknowledged', v.acknowledgedAt && fmtTime(v.acknowledgedAt));
	add('Resolved', v.resolvedAt && fmtTime(v.resolvedAt) + (v.resolution ? ' (' + v.resolution + ')' : ''));
	add('Notes', v.notes);
	const ctxEl = e.context ? h('blockquote.context', null, e.context) : null;
	const notes = h('textarea', { name: 'notes', rows: 2, placeholder: 'Notes (optional)' });
	const msg = h('span.muted');
	const act = (status) => async (ev) => {
		ev.preventDefault();
		msg.textContent = 'Saving…';
		try {
			const body = { status };
			if (notes.value.trim()) body.notes = notes.value.trim();
			const res = await api('/api/policies/violations/' + encodeURIComponent(v.id), { method: 'PATCH', body });
			const nv = (res && res.data) || { status };
			onUpdated(Object.assign({ status }, nv));
		} catch (err) {
			msg.textContent = '';
			msg.appendChild(h('span.error', null, err.message));
		}
	};
	const canAck = v.status === 'new';
	const canResolve = v.status !== 'resolved';
	return h('div.evidence', null, h('dl', null, rows), ctxEl,
		canResolve ? h('form.triage', { onsubmit: (e) => e.preventDefault() }, notes,
			canAck ? h('button', { type: 'button', 'data-action': 'acknowledge', onclick: act('acknowledged') }, 'Acknowledge') : null,
			h('button', { type: 'button', 'data-action': 'resolve', onclick: act('resolved') }, 'Mark resolved'), msg) : null);
}
