// Drives Debian's chromium (through playwright-core) against a running
// `lg-sync serve` and checks the console page by page against what the
// store says (lg-store run here with the same LG_DB). Prints PASS/FAIL/INFO
// lines like the shell suites.
//
// Environment: LG_URL (http://127.0.0.1:PORT), LG_TOKEN, LG_STORE (the
// lg-store binary), LG_DB, LG_CHROMIUM (default /usr/bin/chromium),
// LG_SHOTS (a directory for screenshots, optional), LG_MODE (check | bench),
// LG_BENCH_RUNS (loads per page in bench mode), LG_BENCH_PAGES (the pages
// it loads, e.g. "violations,traces"; all when empty), LG_SYNC_ID (the integration
// "Sync now" runs), LG_XSS_ID (a hostile trace's id).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const URL_ = process.env.LG_URL;
const TOKEN = process.env.LG_TOKEN;
const STORE = process.env.LG_STORE || 'lg-store';
const SHOTS = process.env.LG_SHOTS || '';
const MODE = process.env.LG_MODE || 'check';
const SYNC_ID = process.env.LG_SYNC_ID || 'demo';
const XSS_ID = process.env.LG_XSS_ID || 'xss-trace-1';
const SCRIPT = '<script>window.__xss=1;alert(1)</script>';
const IMG = '"><img src=x onerror="window.__xss=2;alert(2)">';

let failures = 0;
const pass = (n) => console.log('PASS ' + n);
const fail = (n, why) => { failures++; console.log('FAIL ' + n + ': ' + String(why).replace(/\s+/g, ' ').slice(0, 600)); };
const info = (s) => console.log('INFO ' + s);
function expectEq(n, want, got) {
	const w = JSON.stringify(want), g = JSON.stringify(got);
	if (w === g) pass(n); else fail(n, 'want ' + w.slice(0, 280) + ' got ' + g.slice(0, 280));
}
function expectTrue(n, cond, why) { if (cond) pass(n); else fail(n, why); }

function store(...args) { return execFileSync(STORE, args, { encoding: 'utf8', maxBuffer: 1 << 30 }); }
function storeJson(...args) { return JSON.parse(store(...args)); }
function storeLines(...args) { return store(...args).split('\n').filter(Boolean).map((l) => JSON.parse(l)); }

// The console's own formats, to compare text on the page with numbers.
const fmtInt = (n) => new Intl.NumberFormat('en-US').format(Math.round(n));
const fmtPct = (r) => (r * 100).toFixed(1) + '%';
const fmtCost = (c) => (c !== 0 && Math.abs(c) < 0.01 ? '$' + c.toFixed(4) : '$' + c.toFixed(2));

// The value at a violation's location ("input.messages[0].content",
// `["odd key"]`) in a record.
function at(rec, loc) {
	let v = rec, pos = 0;
	const re = /(?:^|\.)([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
	while (pos < loc.length) {
		re.lastIndex = pos;
		const m = re.exec(loc);
		if (!m || v === undefined || v === null) return undefined;
		v = v[m[1] ?? (m[2] !== undefined ? Number(m[2]) : JSON.parse(m[3]))];
		pos = re.lastIndex;
	}
	return v;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main() {
	const profile = fs.mkdtempSync(path.join(process.env.TMPDIR_T || os.tmpdir(), 'chromium-profile-'));
	const ctx = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.LG_CHROMIUM || '/usr/bin/chromium',
		headless: true, args: ARGS, viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1,
		timeout: 120000,
	});
	try {
		const page = ctx.pages()[0] || await ctx.newPage();
		page.setDefaultTimeout(30000);
		if (MODE === 'bench') await bench(page);
		else await check(page);
	} finally {
		await ctx.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
}

// Errors the page reports: console errors, uncaught exceptions, CSP
// violations (seen by a listener the page gets before its own scripts) and
// dialogs (an alert would be a payload that ran).
function watch(page) {
	const w = { errors: [], dialogs: [] };
	page.on('console', (m) => { if (m.type() === 'error') w.errors.push(m.text()); });
	page.on('pageerror', (e) => w.errors.push('pageerror: ' + e.message));
	page.on('dialog', async (d) => { w.dialogs.push(d.message()); await d.dismiss(); });
	return w;
}

// page.waitForFunction compiles its predicate in the page, which the
// console's CSP (no eval) forbids; evaluate() is not subject to it, so
// poll with that.
async function until(page, fn, arg, timeout = 30000) {
	const end = Date.now() + timeout;
	for (;;) {
		if (await page.evaluate(fn, arg)) return;
		if (Date.now() > end) throw new Error('timed out waiting for ' + String(fn).slice(0, 160));
		await new Promise((r) => setTimeout(r, 50));
	}
}

async function open(page, hash, name) {
	// From a blank page: going to the URL the tab already shows would
	// only be a same-document jump, not a load.
	await page.goto('about:blank');
	await page.goto(URL_ + '/' + hash, { waitUntil: 'load' });
	await page.waitForSelector('body[data-ready="' + name + '"]', { timeout: 60000 });
	return page.evaluate(() => ({ paint: Number(document.body.dataset.paintMs), ready: Number(document.body.dataset.readyMs) }));
}

async function shot(page, file) {
	if (!SHOTS) return;
	fs.mkdirSync(SHOTS, { recursive: true });
	await page.screenshot({ path: path.join(SHOTS, file), fullPage: false });
}

async function clean(page, w, name) {
	const dom = await page.evaluate(() => ({
		xss: window.__xss ?? null,
		injected: document.querySelectorAll('main img, main script, main svg, main iframe, [onerror], [onload]').length,
		csp: window.__csp || [],
	}));
	expectEq(name + '-no-console-errors', [], w.errors.concat(dom.csp.map((c) => 'CSP: ' + c)));
	expectEq(name + '-no-script-ran', { xss: null, dialogs: [], injected: 0 },
		{ xss: dom.xss, dialogs: w.dialogs, injected: dom.injected });
	w.errors.length = 0;
}

async function check(page) {
	await page.addInitScript(() => {
		window.__csp = [];
		document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
	});
	const w = watch(page);
	const times = {};

	// The token form, a refused token, then the right one.
	await page.goto(URL_ + '/', { waitUntil: 'load' });
	await page.waitForSelector('body[data-ready="login"]');
	expectTrue('login-form', await page.isVisible('#login'), 'no token form on first load');
	await page.fill('#token', 'not-the-token-0000000000');
	await page.click('#login button[type=submit]');
	await until(page, () => document.getElementById('login-error')?.textContent.length > 0);
	expectEq('login-refused', 'The server did not accept this token.', await page.textContent('#login-error'));
	// The refused request's 401 is the one error this step expects.
	w.errors = w.errors.filter((e) => !/status of 401/.test(e));
	await page.fill('#token', TOKEN);
	await page.click('#login button[type=submit]');
	await page.waitForSelector('body[data-ready="agents"]');
	const kept = await page.evaluate(() => ({ token: sessionStorage.getItem('lg-token'), cookie: document.cookie, local: localStorage.length }));
	expectEq('token-in-session-storage-only', { token: TOKEN, cookie: '', local: 0 }, kept);

	// Agents: every card's figures are lg-store's for the page's period.
	times.agents = await open(page, '#/agents', 'agents');
	const period = await page.$eval('.page-agents .period', (e) => ({ from: e.dataset.from, to: e.dataset.to }));
	const stats = storeJson('stats', '--by', 'agent', '--json', '--from', period.from, '--to', period.to);
	const cards = await page.$$eval('article.agent', (as) => as.map((a) => {
		const f = (k) => a.querySelector('[data-field="' + k + '"]')?.firstChild?.textContent ?? null;
		return { key: a.dataset.agent, traces: f('traces'), success: f('success'), cost: f('cost'),
			violations: a.querySelector('[data-field="violations-total"]')?.textContent ?? null };
	}));
	const want = stats.groups.map((g) => ({ key: g.key, traces: fmtInt(g.traces), success: fmtPct(g.successRate),
		cost: fmtCost(g.cost), violations: fmtInt(g.violations.total) }));
	const sortByKey = (a) => a.slice().sort((x, y) => x.key.localeCompare(y.key));
	expectTrue('agents-some', want.length >= 6, 'lg-store stats has ' + want.length + ' agents in ' + JSON.stringify(period));
	expectEq('agents-cards-match-stats', sortByKey(want), sortByKey(cards));
	const seen = await page.$$eval('article.agent', (as) => as.map((a) => ({ key: a.dataset.agent,
		last: a.querySelector('[data-field="last"]').title || null })));
	const newestOf = (agent) => {
		const ts = store('export', '--agent', agent).split('\n').filter(Boolean).map((l) => JSON.parse(l).timestamp).sort().pop();
		return ts ? new Date(ts).toISOString().slice(0, 16).replace('T', ' ') + 'Z' : null;
	};
	expectEq('agents-last-seen', sortByKey(seen.filter((c) => c.key !== '(none)').map((c) => ({ key: c.key, last: newestOf(c.key) }))),
		sortByKey(seen.filter((c) => c.key !== '(none)')));
	// The timeline: one lane per selected agent whose hours add up to the
	// agent's traces in the period.
	const lanes = await page.$$eval('.timeline .lane[data-agent]', (ls) => ls.map((l) => ({ key: l.dataset.agent,
		traces: [...l.querySelectorAll('.cell')].reduce((n, c) => n + Number(c.dataset.traces || 0), 0) })));
	const top = stats.groups.filter((g) => g.key !== '(none)').slice(0, 5);
	expectEq('agents-timeline-lanes', top.map((g) => ({ key: g.key, traces: g.traces })), lanes);
	expectEq('agents-charts', 2, await page.$$eval('.charts canvas', (c) => c.length));
	await shot(page, 'agents.png');
	// Search narrows the cards; sorting by name orders them.
	await page.fill('input[name=search]', 'bill');
	expectEq('agents-search', ['BillingAgent'], await page.$$eval('article.agent', (as) => as.map((a) => a.dataset.agent)));
	await page.fill('input[name=search]', '');
	await page.selectOption('select[name=sort]', 'name');
	const names = await page.$$eval('article.agent', (as) => as.map((a) => a.dataset.agent));
	expectEq('agents-sort-by-name', names.slice().sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())), names);
	await page.selectOption('select[name=sort]', 'traces');
	// All time: the hostile agent name is a card title, as text.
	await page.selectOption('select[name=range]', 'all');
	await page.waitForSelector('body[data-ready="agents"]');
	await until(page, (n) => [...document.querySelectorAll('article.agent')].some((a) => a.dataset.agent === n), 'XSS ' + IMG);
	expectEq('agents-xss-name-as-text', 'XSS ' + IMG, await page.$$eval('article.agent h3', (hs, n) => hs.map((x) => x.textContent).find((t) => t === n) ?? null, 'XSS ' + IMG));
	await page.selectOption('select[name=range]', '24h');
	await page.waitForSelector('body[data-ready="agents"]');
	// A card's title opens the agent's traces for the same period (read
	// again: the reload may have moved it by a minute).
	const period2 = await page.$eval('.page-agents .period', (e) => ({ from: e.dataset.from, to: e.dataset.to }));
	await page.click('article.agent[data-agent="BillingAgent"] h3 a');
	await page.waitForSelector('body[data-ready="traces"]');
	const billing = await page.$$eval('table.traces tbody tr td:nth-child(3)', (t) => t.map((x) => x.textContent));
	const nBilling = Number(store('count', '--agent', 'BillingAgent', '--from', period2.from, '--to', period2.to));
	expectEq('agents-card-opens-traces', { rows: Math.min(50, nBilling), agents: ['BillingAgent'] },
		{ rows: billing.length, agents: [...new Set(billing)] });
	await clean(page, w, 'agents');

	// Violations: the totals and severities of lg-store violations for the
	// period; acknowledging in the browser acknowledges in the store.
	times.violations = await open(page, '#/violations', 'violations');
	const vp = await page.$eval('.page-violations .period', (e) => ({ from: e.dataset.from, to: e.dataset.to }));
	const vs = storeLines('violations', '--from', vp.from, '--to', vp.to);
	expectEq('violations-total', String(vs.length), await page.$eval('[data-field=shown]', (e) => e.dataset.total));
	const bySev = {};
	for (const s of ['critical', 'high', 'medium', 'low']) bySev[s] = fmtInt(vs.filter((v) => v.severity === s).length);
	expectEq('violations-severity-counts', bySev, await page.$$eval('.sevtotals .kpi', (ks) => Object.fromEntries(ks.map((k) => [k.dataset.sev, k.querySelector('.kpi-value').textContent]))));
	const rows = await page.$$eval('tbody.violation', (bs) => bs.map((b) => ({ id: b.dataset.id, status: b.querySelector('[data-field=status]').textContent })));
	const newest = vs.slice().sort((a, b) => (a.traceTimestamp < b.traceTimestamp ? 1 : a.traceTimestamp > b.traceTimestamp ? -1 : 0));
	expectEq('violations-first-page', Math.min(50, vs.length), rows.length);
	expectEq('violations-newest-first', newest[0]?.traceTimestamp, (vs.find((v) => v.id === rows[0]?.id) || {}).traceTimestamp);
	const target = rows.find((r) => r.status === 'new');
	if (!target) fail('violations-ack', 'no new violation on the page');
	else {
		const sel = 'tbody.violation[data-id="' + target.id + '"]';
		await page.click(sel + ' tr.row td:first-child');
		await page.fill(sel + ' textarea[name=notes]', 'looked at in the browser');
		await page.evaluate(() => window.scrollTo(0, 0));
		await shot(page, 'violations.png');
		await page.click(sel + ' button[data-action=acknowledge]');
		await until(page, (s) => document.querySelector(s + ' [data-field=status]')?.textContent === 'acknowledged', sel);
		const after = storeLines('violations').find((v) => v.id === target.id) || {};
		expectEq('violations-ack-in-store', { status: 'acknowledged', notes: 'looked at in the browser' },
			{ status: after.status, notes: after.notes });
		await page.fill(sel + ' textarea[name=notes]', 'false positive: test data');
		await page.click(sel + ' button[data-action=resolve]');
		await until(page, (s) => document.querySelector(s + ' [data-field=status]')?.textContent === 'resolved', sel);
		const res = storeLines('violations').find((v) => v.id === target.id) || {};
		expectEq('violations-resolve-in-store', { status: 'resolved', notes: 'false positive: test data', resolution: 'resolved by user' },
			{ status: res.status, notes: res.notes, resolution: res.resolution });
	}
	await page.selectOption('select[name=severity]', 'critical');
	await page.waitForSelector('body[data-ready="violations"]');
	const crit = storeLines('violations', '--from', vp.from, '--to', vp.to).filter((v) => v.severity === 'critical').length;
	expectEq('violations-filter-severity', String(crit), await page.$eval('[data-field=shown]', (e) => e.dataset.total));
	// The policy filter offers the policies a run evaluates; a load in the
	// minute after uses the names the tab keeps, without asking again. The
	// list is asked first without its total (the walk of the whole range),
	// the total after.
	const pols = (await (await fetch(URL_ + '/api/policies', { headers: { Authorization: 'Bearer ' + TOKEN } })).json()).data;
	const policyOptions = () => page.$$eval('select[name=policy] option', (os) => os.map((o) => o.value).filter(Boolean));
	expectEq('violations-policy-filter', pols.map((p) => p.id), await policyOptions());
	let asked = 0;
	const lists = [];
	const onRequest = (r) => {
		const u = new URL(r.url());
		if (u.pathname === '/api/policies') asked++;
		if (u.pathname === '/api/policies/violations') lists.push(u.searchParams.get('total'));
	};
	page.on('request', onRequest);
	await open(page, '#/violations', 'violations');
	page.off('request', onRequest);
	expectEq('violations-policy-names-kept', { asked: 0, policies: pols.map((p) => p.id) }, { asked, policies: await policyOptions() });
	expectEq('violations-list-then-total', ['false', null], lists);
	const vp2 = await page.$eval('.page-violations .period', (e) => ({ from: e.dataset.from, to: e.dataset.to }));
	expectEq('violations-total-after-list', String(storeLines('violations', '--from', vp2.from, '--to', vp2.to).length),
		await page.$eval('[data-field=shown]', (e) => e.dataset.total));
	await clean(page, w, 'violations');

	// Traces: the newest first, 50 a page, the next page continues.
	// Filters stay while the tab lives; a link's parameters reset them.
	times.traces = await open(page, '#/traces?range=24h', 'traces');
	const tw = await page.evaluate(() => {
		const to = Math.ceil(Date.now() / 60000) * 60000;
		return { from: new Date(to - 86400e3).toISOString(), to: new Date(to).toISOString() };
	});
	const inRange = store('export', '--from', tw.from, '--to', tw.to).split('\n').filter(Boolean)
		.map((l) => JSON.parse(l).externalId).reverse();
	const p1 = await page.$$eval('table.traces tbody tr', (rs) => rs.map((r) => r.dataset.id));
	expectEq('traces-page-1', inRange.slice(0, 50), p1);
	await shot(page, 'traces.png');
	await page.click('button[data-action=next]');
	await page.waitForSelector('body[data-ready="traces"]');
	const p2 = await page.$$eval('table.traces tbody tr', (rs) => rs.map((r) => r.dataset.id));
	expectEq('traces-page-2', inRange.slice(50, 100), p2);
	await page.click('button[data-action=prev]');
	await page.waitForSelector('body[data-ready="traces"]');
	expectEq('traces-page-back', p1, await page.$$eval('table.traces tbody tr', (rs) => rs.map((r) => r.dataset.id)));
	await page.selectOption('select[name=status]', 'error');
	await page.click('form.filters button[type=submit]');
	await page.waitForSelector('body[data-ready="traces"]');
	const errs = await page.$$eval('table.traces tbody tr', (rs) => rs.map((r) => r.dataset.id));
	const wantErr = store('export', '--from', tw.from, '--to', tw.to, '--status', 'error').split('\n').filter(Boolean)
		.map((l) => JSON.parse(l).externalId).reverse().slice(0, 50);
	expectEq('traces-filter-status', wantErr, errs);
	await clean(page, w, 'traces');

	// One trace: its span tree and its violations marked at their offsets.
	// A trace with a finding in its input or output (an e-mail address
	// rather than a key, for the picture), and a few spans.
	const found = (r) => r.violations.filter((v) => /^(input|output)/.test(v.evidence?.location || '') && Number.isInteger(v.evidence.start));
	const candidates = storeLines('export', '--from', tw.from, '--to', tw.to, '--has-violations')
		.filter((r) => r.spans.length > 3 && r.violations.length <= 4 && found(r).length);
	const withViol = candidates.filter((r) => found(r).some((v) => v.evidence.detector === 'email')).pop() || candidates.pop();
	if (!withViol) fail('trace-view', 'no trace with an input/output finding in the period');
	else {
		times.trace = await open(page, '#/traces/' + encodeURIComponent(withViol.externalId), 'traces');
		expectEq('trace-span-rows', withViol.spans.length, await page.$$eval('table.spans tbody tr', (r) => r.length));
		const marks = await page.$$eval('.io mark.viol', (ms) => ms.map((m) => m.textContent));
		const wantMarks = withViol.violations.filter((v) => /^(input|output)/.test(v.evidence?.location || '') && Number.isInteger(v.evidence.start))
			.map((v) => Array.from(at(withViol, v.evidence.location)).slice(v.evidence.start, v.evidence.end).join(''));
		expectTrue('trace-marks-at-offsets', wantMarks.length > 0 && wantMarks.every((m) => marks.includes(m)),
			'want ' + JSON.stringify(wantMarks) + ' among ' + JSON.stringify(marks));
		await page.evaluate(() => document.querySelector('h2:nth-of-type(2)')?.scrollIntoView());
		await shot(page, 'trace.png');
		const idx = await page.$eval('table.spans tbody tr:nth-child(2)', (r) => Number(r.dataset.span));
		await page.click('table.spans tbody tr:nth-child(2)');
		await page.waitForSelector('.span-detail h3');
		expectEq('trace-span-detail', 'Span: ' + (withViol.spans[idx].name ?? '(unnamed)'), await page.textContent('.span-detail h3'));
		await clean(page, w, 'trace');
	}

	// The hostile trace: every field shows its text; nothing runs.
	const xss = storeJson('get', XSS_ID);
	await open(page, '#/traces/' + encodeURIComponent(XSS_ID), 'traces');
	expectEq('xss-name-as-text', xss.name, await page.textContent('h1.trace-name'));
	expectEq('xss-agent-as-text', 'XSS ' + IMG, await page.textContent('dd[data-field=agent]'));
	const inputText = await page.$eval('.io section:first-child pre', (p) => p.textContent);
	expectTrue('xss-input-as-text', inputText.includes(SCRIPT) && inputText.includes(IMG), inputText.slice(0, 200));
	await page.click('details.meta summary');
	const metaText = await page.textContent('details.meta pre');
	expectTrue('xss-metadata-as-text', metaText.includes(JSON.stringify(IMG)) && metaText.includes(SCRIPT), metaText.slice(0, 200));
	const email = await page.$$eval('.io mark.viol', (ms) => ms.map((m) => m.textContent));
	expectTrue('xss-finding-marked', email.includes('jane.doe@example.com'), JSON.stringify(email));
	await page.click('table.spans tbody tr:nth-child(2)');
	await page.waitForSelector('.span-detail h3');
	expectEq('xss-span-name-as-text', 'Span: ' + IMG, await page.textContent('.span-detail h3'));
	await page.goto(URL_ + '/#/traces?range=all&agent=' + encodeURIComponent('XSS ' + IMG), { waitUntil: 'load' });
	await page.waitForSelector('body[data-ready="traces"]');
	expectEq('xss-list-name-as-text', [xss.name], await page.$$eval('table.traces tbody tr[data-id="' + XSS_ID + '"] td:nth-child(2)', (t) => t.map((x) => x.textContent)));
	await page.goto(URL_ + '/#/violations?range=all&agent=' + encodeURIComponent('XSS ' + IMG), { waitUntil: 'load' });
	await page.waitForSelector('body[data-ready="violations"]');
	for (const row of await page.$$('tbody.violation tr.row td:first-child')) await row.click();
	const ctxText = await page.$$eval('tbody.violation blockquote.context', (b) => b.map((x) => x.textContent).join('\n'));
	expectTrue('xss-evidence-context-as-text', /<(script|img|svg)/.test(ctxText), ctxText.slice(0, 200));
	await clean(page, w, 'xss');

	// Integrations: the status rendered; Sync now runs a sync whose result
	// the page shows, the run the store recorded.
	times.integrations = await open(page, '#/integrations', 'integrations');
	const before = storeJson('status', SYNC_ID).data.lastSync;
	const card = 'article.integration[data-id="' + SYNC_ID + '"]';
	expectEq('integrations-status', fmtInt(before.itemsFetched), await page.textContent(card + ' [data-field=fetched]'));
	await page.selectOption(card + ' select[name=mode]', 'backfill');
	await page.click(card + ' button[data-action=sync]');
	await page.waitForSelector(card + ' .sync-result[data-status]', { timeout: 120000 });
	const after = storeJson('status', SYNC_ID).data.lastSync;
	expectTrue('sync-now-new-run', after.id !== before.id, 'run id unchanged: ' + after.id);
	expectEq('sync-now-result', 'Sync ' + after.status + ': ' + fmtInt(after.itemsFetched) + ' fetched, ' + fmtInt(after.itemsIngested) + ' ingested',
		(await page.textContent(card + ' .sync-result')).replace(/ — .*/, ''));
	expectEq('sync-now-completed', 'completed', after.status);
	expectEq('sync-now-status-refreshed', fmtInt(after.itemsFetched), await page.textContent(card + ' [data-field=fetched]'));
	expectEq('sync-now-in-runs', after.id, await page.$eval(card + ' table.runs tbody tr', (r) => r.dataset.run));
	const broken = storeLines('runs', 'broken')[0] || {};
	const bcard = 'article.integration[data-id="broken"]';
	expectEq('runs-error-shown', { run: broken.id, status: 'failed', error: broken.error },
		await page.$eval(bcard + ' table.runs tbody tr', (r) => ({ run: r.dataset.run,
			status: r.querySelector('.badge').textContent, error: r.querySelector('[data-field=error]').textContent })));
	await shot(page, 'integrations.png');
	await clean(page, w, 'integrations');

	for (const [k, v] of Object.entries(times)) info(k + ': main content ' + v.paint + ' ms, complete ' + v.ready + ' ms');
}

// Bench: each page loaded LG_BENCH_RUNS times (a full load: HTML, scripts,
// the API calls, the drawing); prints the median and the worst. Twice:
// "fresh", each load just after a commit to the store (as after each
// sync: lg-sync serve's kept answers no longer hold), and "kept", the
// same load again with the answers kept since. A commit is a cursor set
// to a time of no integration's (LG_BENCH_COMMIT, e.g. "cursor
// bench-commit --reset 2026-01-01T00:00:00Z").
async function bench(page) {
	await page.goto(URL_ + '/', { waitUntil: 'load' });
	await page.evaluate((t) => sessionStorage.setItem('lg-token', t), TOKEN);
	const runs = Number(process.env.LG_BENCH_RUNS || 5);
	const PAGES = (process.env.LG_BENCH_PAGES || '').split(',').filter(Boolean);
	const commit = (process.env.LG_BENCH_COMMIT || '').split(' ').filter(Boolean);
	const some = storeLines('export', '--reverse', '--limit', '1')[0]; /* the newest trace, however old */
	for (const fresh of commit.length ? [true, false] : [false]) {
		for (const [name, hash, ready] of [['agents', '#/agents', 'agents'], ['violations', '#/violations', 'violations'],
			['traces', '#/traces', 'traces'], ['trace', '#/traces/' + encodeURIComponent(some.externalId), 'traces'],
			['integrations', '#/integrations', 'integrations']].filter(([name]) => !PAGES.length || PAGES.includes(name))) {
			const paint = [], done = [];
			await open(page, hash, ready);   // warm: the first load of a page
			for (let i = 0; i < runs; i++) {
				if (fresh) store(...commit);
				const t = await open(page, hash, ready);
				paint.push(t.paint);
				done.push(t.ready);
			}
			const med = (a) => String(a.sort((x, y) => x - y)[a.length >> 1]).padStart(5);
			console.log('console ' + (fresh ? 'fresh ' : 'kept  ') + name.padEnd(13) + ' main content median ' + med(paint) + ' ms, worst ' + String(paint[paint.length - 1]).padStart(5) +
				' ms; complete median ' + med(done) + ' ms, worst ' + String(done[done.length - 1]).padStart(5) + ' ms (' + runs + ' loads)');
		}
	}
}

main().then(() => process.exit(failures ? 1 : 0), (e) => { fail('browser', e.stack || e); process.exit(1); });
