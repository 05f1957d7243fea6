// Integrations: each one's sync status (the JSON of `lg-sync status`,
// rendered), "Sync now" (incremental or backfill) followed until the run
// ends, and the last runs with their errors.
import { h, append, clear, fmtInt, fmtTime, fmtAgo, select, loading, showError, statusBadge } from './dom.js';
import { api, get } from './api.js';
import { renderJson } from './json.js';

const POLL_MS = 1000;
const RUNS = 5;

export async function render(root, ctx) {
	root.appendChild(h('h1', null, 'Integrations'));
	const list = h('div.integrations');
	root.appendChild(list);
	const timers = new Set();
	loading(list, 'integrations');
	let items;
	try {
		const d = await get('/api/integrations');
		items = Array.isArray(d) ? d : (d.integrations || []);
	} catch (e) {
		clear(list);
		showError(list, e);
		ctx.ready();
		return null;
	}
	if (!ctx.live()) return null;
	clear(list);
	if (!items.length) list.appendChild(h('p.muted', null, 'No integration yet: add one with lg-sync add.'));
	await Promise.all(items.map(async (it) => {
		const box = h('article.card.integration', { 'data-id': it.id });
		list.appendChild(box);
		await drawIntegration(box, it, ctx, timers);
	}));
	ctx.ready();
	return { cleanup: () => { for (const t of timers) clearTimeout(t); timers.clear(); } };
}

async function drawIntegration(box, it, ctx, timers) {
	clear(box);
	const id = it.id;
	const statusEl = h('div.status');
	const runsEl = h('div.runs');
	const msg = h('p.sync-result', { 'aria-live': 'polite' });
	const mode = select('mode', [['incremental', 'Incremental'], ['backfill', 'Backfill']], 'incremental', null);
	const btn = h('button', { type: 'button', 'data-action': 'sync' }, 'Sync now');
	const facts = [];
	const add = (k, v) => { if (v !== undefined && v !== null && v !== '') facts.push(h('dt', null, k), h('dd', null, String(v))); };
	add('Host', it.host);
	add('Auto sync', it.autoSync === undefined ? undefined : it.autoSync ? 'every ' + (it.interval || '?') : 'off');
	add('Lookback', it.lookback);
	add('Public key', it.publicKey);
	add('Secret key', it.secretKeySource ? (it.secretKey ? it.secretKey + ' ' : '') + '(' + it.secretKeySource + ')' : undefined);
	if (it.valid === false) {
		append(box, h('header', null, h('h3', null, it.name || id || '(no id)')),
			h('p.error', null, 'Invalid config entry: ' + (it.error || 'unknown error')));
		return;
	}
	append(box,
		h('header', null, h('h3', null, it.name || id), h('span.muted', null, id)),
		h('dl.facts', null, facts),
		statusEl,
		h('div.toolbar', null, h('label', null, 'Mode ', mode), btn),
		msg,
		h('h4', null, 'Last runs'), runsEl);

	async function refresh() {
		const st = await api('/api/integrations/' + encodeURIComponent(id) + '/sync/status');
		drawStatus(statusEl, st);
		await drawRuns(runsEl, id);
		return st;
	}

	btn.addEventListener('click', async () => {
		btn.disabled = true;
		msg.className = 'sync-result';
		msg.textContent = 'Starting a ' + mode.value + ' sync…';
		let runId = null;
		try {
			const res = await api('/api/integrations/' + encodeURIComponent(id) + '/sync', { method: 'POST', body: { mode: mode.value } });
			const d = res?.data || res || {};
			runId = d.id ?? null;
			msg.textContent = 'Sync started' + (runId ? ' (run ' + runId + ')' : '') + '…';
		} catch (e) {
			if (e.status !== 409) { msg.className = 'sync-result error'; msg.textContent = e.message; btn.disabled = false; return; }
			runId = e.detail.runId ?? null;
			msg.textContent = 'A sync is already running' + (runId ? ' (run ' + runId + ')' : '') + '; following it…';
		}
		// Follow the run until the status says it is over.
		const poll = async () => {
			timers.delete(timer);
			if (!ctx.live()) return;
			let st;
			try { st = await refresh(); } catch (e) { msg.className = 'sync-result error'; msg.textContent = e.message; btn.disabled = false; return; }
			const d = st.data || st;
			const last = d.lastSync;
			const done = !d.isActive && last && (!runId || String(last.id) === String(runId)) && last.status !== 'running';
			if (!done) { timer = setTimeout(poll, POLL_MS); timers.add(timer); return; }
			btn.disabled = false;
			msg.className = 'sync-result ' + (last.status === 'completed' ? 'ok' : 'error');
			msg.dataset.status = last.status;
			msg.textContent = 'Sync ' + last.status + ': ' + fmtInt(last.itemsFetched) + ' fetched, ' +
				fmtInt(last.itemsIngested) + ' ingested' + (last.error ? ' — ' + last.error : '');
		};
		let timer = setTimeout(poll, 200);
		timers.add(timer);
	});

	try { await refresh(); } catch (e) { showError(statusEl, e); }
}

function drawStatus(el, st) {
	clear(el);
	const d = st.data || st;
	const last = d.lastSync;
	append(el,
		h('div.kpis', null,
			h('div.kpi', null, h('span.kpi-value', { 'data-field': 'state' }, d.isActive ? 'running' : 'idle'), h('span.kpi-label', null, 'now')),
			h('div.kpi', null, h('span.kpi-value', null, d.hasSchedule ? 'yes' : 'no'), h('span.kpi-label', null, 'scheduled')),
			last ? [
				h('div.kpi', null, h('span.kpi-value', { 'data-field': 'last-status' }, statusBadge(last.status)), h('span.kpi-label', null, 'last sync')),
				h('div.kpi', null, h('span.kpi-value', { 'data-field': 'fetched' }, fmtInt(last.itemsFetched)), h('span.kpi-label', null, 'fetched')),
				h('div.kpi', null, h('span.kpi-value', { 'data-field': 'ingested' }, fmtInt(last.itemsIngested)), h('span.kpi-label', null, 'ingested')),
				h('div.kpi', null, h('span.kpi-value', { title: fmtTime(last.completedAt || last.startedAt) }, fmtAgo(last.completedAt || last.startedAt)), h('span.kpi-label', null, 'finished')),
			] : h('div.kpi', null, h('span.kpi-value', null, 'never'), h('span.kpi-label', null, 'last sync'))),
		last?.error ? h('p.error', null, last.error) : null,
		d.incomplete ? h('p.muted', null, 'Incomplete traces: ' + fmtInt(d.incomplete.pending) + ' pending, ' + fmtInt(d.incomplete.gaveUp) + ' given up') : null,
		h('details.raw', null, h('summary', null, 'Status JSON'), renderJson(st, '', null)));
}

// The last runs with their errors (GET …/runs: the store's record of each).
async function drawRuns(el, id) {
	const d = await get('/api/integrations/' + encodeURIComponent(id) + '/runs', { limit: RUNS });
	const runs = d.runs || [];
	clear(el);
	if (!runs.length) { el.appendChild(h('p.muted', null, 'No run yet.')); return; }
	el.appendChild(h('table.runs', null,
		h('thead', null, h('tr', null, ['Run', 'Mode', 'Status', 'Started', 'Finished', 'Fetched', 'Ingested', 'Error'].map((t) => h('th', null, t)))),
		h('tbody', null, runs.map((r) => h('tr', { 'data-run': r.id },
			h('td.nowrap', null, String(r.id ?? '—')),
			h('td', null, r.mode || '—'),
			h('td', null, statusBadge(r.status)),
			h('td', null, fmtTime(r.startedAt)),
			h('td', null, fmtTime(r.completedAt)),
			h('td.num', null, fmtInt(r.itemsFetched)),
			h('td.num', null, fmtInt(r.itemsIngested)),
			h('td.error', { 'data-field': 'error' }, r.error || ''))))));
}
