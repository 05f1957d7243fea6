// Traces: the explorer (the filters of lg-store export, cursor paging) and
// one trace as its span tree, with input and output pretty-printed and the
// violations marked where they were found.
import { h, append, clear, onActivate, fmtInt, fmtCost, fmtMs, fmtTime, setPct, select, loading, showError, sevBadge, statusBadge, SEVERITIES } from './dom.js';
import { get } from './api.js';
import { RANGES, window_ } from './period.js';
import { renderJson, marksByLocation } from './json.js';
import { evidence } from './violations.js';
import { agentNames } from './names.js';

const LIMIT = 50;
const FILTERS = ['range', 'agent', 'status', 'integration', 'user', 'session', 'severity', 'policy', 'hasViolations'];
// A link may fix the period exactly (since/until, as the agents page
// gives its own); choosing a time range in the form replaces it.
const FIXED = ['since', 'until'];
const state = { range: '24h' };

export async function render(root, ctx) {
	if (ctx.args.length) return renderTrace(root, ctx, ctx.args[0]);
	return renderList(root, ctx);
}

function agentOf(t) { return t.agent?.name || t.metadata?.agent_name || null; }

async function renderList(root, ctx) {
	root.appendChild(h('h1', null, 'Traces'));
	// A link with filters (#/traces?agent=X) sets them all: the ones it
	// does not name go back to their defaults.
	if ([...ctx.params.keys()].length) {
		for (const k of FILTERS.concat(FIXED)) delete state[k];
		state.range = '24h';
		for (const k of FILTERS.concat(FIXED)) if (ctx.params.has(k)) state[k] = ctx.params.get(k);
	}
	const form = h('form.toolbar.filters', { onsubmit: (e) => { e.preventDefault(); readForm(); first(); } });
	const info = h('p.muted');
	const table = h('div.list');
	const pager = h('div.pager');
	append(root, form, info, table, pager);
	let cursors = [null];   // the cursor of each page seen so far
	let page = 0, next = null, agents = [];

	function field(name, label, input) { return h('label', null, label + ' ', input); }
	function drawForm() {
		clear(form);
		const text = (n, ph, type = 'text') => h('input', { name: n, type, placeholder: ph, value: state[n] || '' });
		append(form,
			field('range', 'Time', select('range', state.since || state.until
				? [['fixed', fmtTime(state.since) + ' – ' + fmtTime(state.until)], ...RANGES] : RANGES,
			state.since || state.until ? 'fixed' : state.range || 'all', null)),
			field('agent', 'Agent', select('agent', [['', 'All'], ...agents], state.agent || '', null)),
			field('status', 'Status', select('status', [['', 'All'], 'success', 'warning', 'error'], state.status || '', null)),
			field('severity', 'Violation ≥', select('severity', [['', 'Any'], ...SEVERITIES], state.severity || '', null)),
			field('hasViolations', 'Only with violations', h('input', { type: 'checkbox', name: 'hasViolations', checked: state.hasViolations === 'true' })),
			field('policy', 'Policy', text('policy', 'policy id')),
			field('user', 'User', text('user', 'user id')),
			field('session', 'Session', text('session', 'session id')),
			field('integration', 'Integration', text('integration', 'id')),
			h('button', { type: 'submit' }, 'Apply'));
	}
	function readForm() {
		for (const k of FILTERS) {
			const el = form.elements[k];
			if (!el) continue;
			state[k] = el.type === 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
		}
		if (state.range !== 'fixed') for (const k of FIXED) delete state[k];
	}
	function params() {
		const w = window_(state.range || 'all');
		const p = state.since || state.until ? { since: state.since, until: state.until, limit: LIMIT }
			: { since: w.from, until: w.to, limit: LIMIT };
		for (const k of FILTERS) if (k !== 'range' && state[k]) p[k] = state[k];
		return p;
	}

	async function load() {
		ctx.busy();
		loading(table, 'traces');
		clear(pager);
		try {
			const p = params();
			if (cursors[page]) p.cursor = cursors[page];
			const res = await get('/api/traces', p);
			if (!ctx.live()) return;
			const rows = res.traces || res.items || [];
			next = res.nextCursor || null;
			drawTable(rows);
			info.textContent = 'Page ' + (page + 1) + ': ' + rows.length + ' traces' + (next ? '' : ' (last page)');
			append(pager,
				h('button', { type: 'button', disabled: page === 0, 'data-action': 'prev', onclick: () => { page--; load(); } }, '← Previous'),
				h('button', { type: 'button', disabled: !next, 'data-action': 'next', onclick: () => { cursors[page + 1] = next; page++; load(); } }, 'Next →'));
		} catch (e) {
			if (!ctx.live()) return;
			clear(table);
			showError(table, e);
		}
		ctx.ready();
		agentNames(state.since ? '7d' : state.range || 'all').then((names) => {
			if (!ctx.live() || names.join('\n') === agents.join('\n')) return;
			if (state.agent && !names.includes(state.agent)) names = names.concat(state.agent).sort();
			agents = names;
			readForm();
			drawForm();
		});
	}
	function first() { cursors = [null]; page = 0; load(); }

	function drawTable(rows) {
		clear(table);
		if (!rows.length) { table.appendChild(h('p.muted', null, 'No trace matches.')); return; }
		table.appendChild(h('table.traces', null,
			h('thead', null, h('tr', null, ['Time', 'Name', 'Agent', 'Status', 'Duration', 'Tokens', 'Cost', 'Violations', 'Integration']
				.map((t, i) => h(i >= 4 && i <= 7 ? 'th.num' : 'th', null, t)))),
			h('tbody', null, rows.map((t) => {
				const vs = t.violations || [];
				const worst = SEVERITIES.find((s) => vs.some((v) => v.severity === s));
				return h('tr', { 'data-id': t.externalId },
					h('td', null, fmtTime(t.timestamp)),
					h('td', null, h('a', { href: '#/traces/' + encodeURIComponent(t.externalId) }, t.name ?? '(unnamed)')),
					h('td', null, agentOf(t) || '—'),
					h('td', null, statusBadge(t.status)),
					h('td.num', null, fmtMs(t.duration)),
					h('td.num', null, fmtInt(t.metadata?.tokens?.total)),
					h('td.num', null, fmtCost(t.metadata?.cost)),
					h('td.num', null, vs.length ? [sevBadge(worst), ' ', String(vs.length)] : '0'),
					h('td', null, t.source?.integration || '—'));
			}))));
	}

	drawForm();
	await load();
	return null;
}

async function renderTrace(root, ctx, id) {
	root.appendChild(h('p', null, h('a', { href: '#/traces' }, '← Traces')));
	const body = h('div');
	root.appendChild(body);
	loading(body, 'the trace');
	let t;
	try {
		t = await get('/api/traces/' + encodeURIComponent(id));
	} catch (e) {
		clear(body);
		showError(body, e);
		ctx.ready();
		return null;
	}
	if (!ctx.live()) return null;
	clear(body);
	const vs = t.violations || [];
	const m = t.metadata || {};
	const kv = (k, v) => [h('dt', null, k), h('dd', { 'data-field': k.toLowerCase() }, v)];
	append(body,
		h('h1.trace-name', null, t.name ?? '(unnamed trace)'),
		h('dl.facts', null,
			kv('Trace', t.externalId),
			kv('Agent', agentOf(t) || '—'),
			kv('Status', statusBadge(t.status)),
			kv('Started', fmtTime(t.timestamp)),
			kv('Duration', fmtMs(t.duration)),
			kv('Model', m.model || '—'),
			kv('Tokens', fmtInt(m.tokens?.input) + ' in / ' + fmtInt(m.tokens?.output) + ' out'),
			kv('Cost', fmtCost(m.cost)),
			kv('User', t.userId || '—'),
			kv('Session', t.sessionId || '—'),
			kv('Integration', t.source?.integration || '—'),
			t.incomplete ? kv('Incomplete', t.incomplete.join(', ')) : null,
			t.source?.htmlPath ? kv('Langfuse', h('a', { href: t.source.htmlPath, rel: 'noopener noreferrer', target: '_blank' }, 'open in Langfuse')) : null));

	if (vs.length) {
		body.appendChild(h('h2', null, 'Policy violations (' + vs.length + ')'));
		const item = (v, open) => {
			const li = h('li', { 'data-id': v.id }, h('details', { open },
				h('summary', null, sevBadge(v.severity), ' ', v.name || v.policy, ': ', v.message, ' ', statusBadge(v.status)),
				evidence(v, (nv) => { Object.assign(v, nv); li.replaceWith(item(v, true)); })));
			return li;
		};
		body.appendChild(h('ul.trace-violations', null, vs.map((v) => item(v, false))));
	}

	const spans = t.spans || [];
	body.appendChild(h('h2', null, 'Spans (' + spans.length + ')'));
	const spanDetail = h('div.span-detail');
	body.appendChild(spanTree(t, spans, vs, spanDetail));
	body.appendChild(spanDetail);

	const marks = marksByLocation(vs);
	body.appendChild(h('div.io', null,
		h('section', null, h('h2', null, 'Input'), renderJson(t.input, 'input', marks)),
		h('section', null, h('h2', null, 'Output'), renderJson(t.output, 'output', marks))));
	body.appendChild(h('details.meta', null, h('summary', null, 'Metadata'), renderJson(t.metadata, 'metadata', marks)));
	ctx.ready();
	return null;
}

// The spans as a tree (parentId), each with a bar placed on the trace's own
// time axis, its tokens and cost; a span with a violation is marked.
function spanTree(t, spans, vs, detail) {
	const byId = new Map(spans.map((s, i) => [s.id, { s, i, kids: [] }]));
	const roots = [];
	for (const n of byId.values()) {
		const p = n.s.parentId && byId.get(n.s.parentId);
		if (p && p !== n) p.kids.push(n); else roots.push(n);
	}
	const starts = spans.map((s) => Date.parse(s.startTime)).filter(Number.isFinite);
	const ends = spans.map((s) => Date.parse(s.endTime || s.startTime)).filter(Number.isFinite);
	const t0 = starts.length ? Math.min(...starts) : Date.parse(t.timestamp);
	const t1 = Math.max(ends.length ? Math.max(...ends) : t0, t0 + (t.duration || 0), t0 + 1);
	const spanViol = new Map();
	for (const v of vs) {
		const mm = /^spans\[(\d+)\]/.exec(v.evidence?.location || '');
		if (mm) { const i = Number(mm[1]); if (!spanViol.has(i)) spanViol.set(i, []); spanViol.get(i).push(v); }
	}
	const table = h('table.spans', null, h('thead', null, h('tr', null,
		h('th', null, 'Span'), h('th', null, 'Type'), h('th.timeline-col', null, 'Timeline'), h('th.num', null, 'Duration'),
		h('th.num', null, 'Tokens'), h('th.num', null, 'Cost'))));
	const tbody = h('tbody');
	const seen = new Set();
	const walk = (n, depth) => {
		if (seen.has(n)) return;   // a parent loop in bad data draws once
		seen.add(n);
		const s = n.s;
		const st = Date.parse(s.startTime);
		const en = Date.parse(s.endTime || s.startTime);
		const bar = h('span.dbar' + (s.level === 'ERROR' ? '.err' : s.level === 'WARNING' ? '.warn' : ''));
		setPct(bar, 'margin-left', ((Number.isFinite(st) ? st : t0) - t0) / (t1 - t0));
		setPct(bar, 'width', Math.max(0.004, (Number.isFinite(en - st) ? en - st : 0) / (t1 - t0)));
		const sv = spanViol.get(n.i) || [];
		const name = h('span.sname', null, s.name ?? '(unnamed)');
		name.style.setProperty('padding-left', (depth * 1.1) + 'em');
		const row = h('tr.span' + (sv.length ? '.has-viol' : ''), { 'data-span': String(n.i), tabindex: 0 },
			h('td', null, name, sv.length ? [' ', sevBadge(SEVERITIES.find((x) => sv.some((v) => v.severity === x)))] : null),
			h('td', null, s.type || '—', s.model ? ' · ' + s.model : ''),
			h('td.timeline-col', null, h('span.dtrack', null, bar)),
			h('td.num', null, fmtMs(s.duration)),
			h('td.num', null, s.tokens ? fmtInt(s.tokens.total) : '—'),
			h('td.num', null, s.cost === null || s.cost === undefined ? '—' : fmtCost(s.cost)));
		tbody.appendChild(onActivate(row, () => showSpan(n.i, s, sv)));
		for (const k of n.kids) walk(k, depth + 1);
	};
	for (const r of roots) walk(r, 0);
	for (const n of byId.values()) walk(n, 0);
	table.appendChild(tbody);

	function showSpan(i, s, sv) {
		clear(detail);
		for (const r of tbody.children) r.classList.toggle('current', r.dataset.span === String(i));
		const marks = marksByLocation(sv);
		const p = 'spans[' + i + ']';
		append(detail, h('h3', null, 'Span: ', s.name ?? '(unnamed)'),
			h('p.muted', null, (s.type || '') + (s.model ? ' · ' + s.model : '') + ' · ' + fmtTime(s.startTime) + ' · ' +
				fmtMs(s.duration) + (s.statusMessage ? ' · ' + s.statusMessage : '')),
			h('div.io', null,
				h('section', null, h('h4', null, 'Input'), renderJson(s.input, p + '.input', marks)),
				h('section', null, h('h4', null, 'Output'), renderJson(s.output, p + '.output', marks))),
			s.metadata ? h('details.meta', null, h('summary', null, 'Metadata'), renderJson(s.metadata, p + '.metadata', marks)) : null);
	}
	return table;
}
