// Pretty-printed JSON as DOM text, with violations highlighted where
// lg-policy found them: `evidence.location` is a path in the record
// (`input.messages[1].content`, `spans[3].input.sql`, `["odd key"]`) and
// `start`/`end` count Unicode code points in the string there, not UTF-16
// units, so strings are split with Array.from before slicing.
import { h, append } from './dom.js';

const PLAIN = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(path, key) {
	if (typeof key === 'number') return path + '[' + key + ']';
	if (PLAIN.test(key)) return path ? path + '.' + key : key;
	return path + '[' + JSON.stringify(key) + ']';
}

// marks: Map location -> [{start, end, severity, label}]
export function marksByLocation(violations, prefix = '') {
	const m = new Map();
	for (const v of violations || []) {
		const e = v.evidence || {};
		if (typeof e.location !== 'string' || !e.location.startsWith(prefix)) continue;
		const loc = e.location;
		if (!m.has(loc)) m.set(loc, []);
		m.get(loc).push({ start: e.start, end: e.end, severity: v.severity,
			label: (v.name || v.policy) + ': ' + (v.message || '') });
	}
	return m;
}

function highlightString(s, marks) {
	const out = [];
	const cps = Array.from(s);
	const ranges = marks.filter((m) => Number.isInteger(m.start) && Number.isInteger(m.end) && m.end > m.start)
		.sort((a, b) => a.start - b.start);
	let at = 0;
	for (const r of ranges) {
		const start = Math.max(r.start, at), end = Math.min(r.end, cps.length);
		if (end <= start) continue;
		if (start > at) out.push(cps.slice(at, start).join(''));
		out.push(h('mark.viol.sev-' + r.severity, { title: r.label }, cps.slice(start, end).join('')));
		at = end;
	}
	if (at < cps.length) out.push(cps.slice(at).join(''));
	return out;
}

// render(value, path, marks) -> a <pre> of the value; a string at a marked
// location without offsets is marked whole.
export function renderJson(value, path, marks) {
	const pre = h('pre.json');
	const write = (v, p, indent) => {
		const ms = marks && marks.get(p);
		if (v === null) { pre.appendChild(h('span.j-null', null, 'null')); return; }
		if (Array.isArray(v)) {
			if (!v.length) { pre.appendChild(document.createTextNode('[]')); return; }
			pre.appendChild(document.createTextNode('[\n'));
			v.forEach((x, i) => {
				pre.appendChild(document.createTextNode(indent + '  '));
				write(x, childPath(p, i), indent + '  ');
				pre.appendChild(document.createTextNode(i < v.length - 1 ? ',\n' : '\n'));
			});
			pre.appendChild(document.createTextNode(indent + ']'));
			return;
		}
		if (typeof v === 'object') {
			const keys = Object.keys(v);
			if (!keys.length) { pre.appendChild(document.createTextNode('{}')); return; }
			pre.appendChild(document.createTextNode('{\n'));
			keys.forEach((k, i) => {
				pre.appendChild(document.createTextNode(indent + '  '));
				pre.appendChild(h('span.j-key', null, JSON.stringify(k)));
				pre.appendChild(document.createTextNode(': '));
				write(v[k], childPath(p, k), indent + '  ');
				pre.appendChild(document.createTextNode(i < keys.length - 1 ? ',\n' : '\n'));
			});
			pre.appendChild(document.createTextNode(indent + '}'));
			return;
		}
		if (typeof v === 'string') {
			const el = h('span.j-str');
			// The text as it is (no JSON escapes), so offsets line up with
			// what the reader sees; quotes mark where it starts and ends.
			el.appendChild(document.createTextNode('"'));
			if (ms && ms.some((m) => Number.isInteger(m.start))) for (const n of highlightString(v, ms)) append(el, n);
			else if (ms) el.appendChild(h('mark.viol.sev-' + ms[0].severity, { title: ms[0].label }, v));
			else el.appendChild(document.createTextNode(v));
			el.appendChild(document.createTextNode('"'));
			pre.appendChild(el);
			return;
		}
		const t = typeof v === 'number' ? 'j-num' : 'j-bool';
		if (ms) pre.appendChild(h('mark.viol.sev-' + ms[0].severity, { title: ms[0].label }, JSON.stringify(v)));
		else pre.appendChild(h('span.' + t, null, JSON.stringify(v)));
	};
	write(value, path, '');
	return pre;
}
