// DOM building for data that comes from traces, which are untrusted input:
// every value becomes a text node or a property, never markup. Nothing in
// the console assigns innerHTML.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'type', 'name',
	'placeholder', 'title', 'id', 'htmlFor', 'hidden', 'open', 'min', 'max', 'step', 'rows']);

// h('tag.class1.class2', {attrs}, children...): children are nodes, strings
// (as text), numbers, arrays of those, or null/false (skipped).
export function h(spec, attrs, ...children) {
	const [tag, ...classes] = spec.split('.');
	const el = document.createElement(tag || 'div');
	if (classes.length) el.className = classes.join(' ');
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false) continue;
			if (k === 'class') el.className += (el.className ? ' ' : '') + v;
			else if (k === 'href') el.setAttribute('href', safeHref(v));
			else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
			else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for'
				|| k === 'target' || k === 'rel' || k === 'colspan' || k === 'tabindex')
				el.setAttribute(k, String(v));
			else if (PROPS.has(k)) el[k] = v;
			else throw new Error('h: attribute not allowed: ' + k);
		}
	}
	append(el, children);
	return el;
}

export function append(el, ...children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, ...c);
		else if (c instanceof Node) el.appendChild(c);
		else el.appendChild(document.createTextNode(String(c)));
	}
	return el;
}

// A table row that opens something on click opens it on Enter too.
export function onActivate(el, f) {
	el.addEventListener('click', f);
	el.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === el) { e.preventDefault(); f(e); } });
	return el;
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

// Links inside the console are hash routes; a link out (a trace's Langfuse
// page) must be http(s): a javascript: URL in a trace must not become a link.
export function safeHref(v) {
	const s = String(v);
	if (s.startsWith('#')) return s;
	try {
		const u = new URL(s, location.href);
		if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
	} catch (e) { /* not a URL */ }
	return '#';
}

export const num = new Intl.NumberFormat('en-US');

export function fmtInt(n) { return n === null || n === undefined ? '—' : num.format(Math.round(n)); }

export function fmtPct(r) {
	return r === null || r === undefined ? '—' : (r * 100).toFixed(1) + '%';
}

export function fmtCost(c) {
	if (c === null || c === undefined) return '—';
	if (c !== 0 && Math.abs(c) < 0.01) return '$' + c.toFixed(4);
	return '$' + c.toFixed(2);
}

export function fmtMs(ms) {
	if (ms === null || ms === undefined) return '—';
	if (ms < 1000) return Math.round(ms) + ' ms';
	if (ms < 60000) return (ms / 1000).toFixed(2) + ' s';
	return (ms / 60000).toFixed(1) + ' min';
}

// Times are shown in UTC, as the store and the CLI print them.
export function fmtTime(iso) {
	if (!iso) return '—';
	const d = new Date(iso);
	if (isNaN(d)) return String(iso);
	return d.toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

export function fmtAgo(iso, now = Date.now()) {
	if (!iso) return '—';
	const t = Date.parse(iso);
	if (isNaN(t)) return String(iso);
	const s = Math.max(0, (now - t) / 1000);
	if (s < 90) return Math.round(s) + ' s ago';
	if (s < 5400) return Math.round(s / 60) + ' min ago';
	if (s < 129600) return Math.round(s / 3600) + ' h ago';
	return Math.round(s / 86400) + ' d ago';
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low'];

export function sevBadge(sev) {
	return h('span.badge.sev-' + (SEVERITIES.includes(sev) ? sev : 'none'), null, sev || '—');
}

export function statusBadge(st) {
	const known = ['success', 'warning', 'error', 'new', 'acknowledged', 'resolved',
		'completed', 'failed', 'running', 'cancelled'];
	return h('span.badge.st-' + (known.includes(st) ? st : 'none'), null, st || '—');
}

// A width or offset as a percentage, set through the CSSOM (allowed under a
// CSP without 'unsafe-inline', unlike a style attribute in markup).
export function setPct(el, prop, frac) {
	const f = Math.max(0, Math.min(1, Number.isFinite(frac) ? frac : 0));
	el.style.setProperty(prop, (f * 100).toFixed(3) + '%');
	return el;
}

export function select(name, options, value, onchange) {
	const s = h('select', { name, onchange });
	for (const o of options) {
		const [v, label] = Array.isArray(o) ? o : [o, o];
		s.appendChild(h('option', { value: v, selected: v === value }, label));
	}
	return s;
}

export function loading(el, what) {
	clear(el).appendChild(h('p.muted', null, 'Loading ' + what + '…'));
}

export function showError(el, err) {
	el.appendChild(h('p.error', { role: 'alert' }, String(err && err.message ? err.message : err)));
}
