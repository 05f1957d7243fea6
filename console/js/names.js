// The names the filter lists offer: the agents of the page's own period
// (at most the last 7 days) and the policies (lg-policy --list). Each is
// asked after the page's data, never before it, and kept a minute in the
// tab (sessionStorage) so that moving between pages or loading one again
// does not ask again: each asking is a process on the server.
import { get } from './api.js';
import { rangeMs } from './period.js';

const KEEP_MS = 60e3;

function kept(key, ask) {
	try {
		const hit = JSON.parse(sessionStorage.getItem(key) || 'null');
		if (hit && Date.now() - hit.at < KEEP_MS && Array.isArray(hit.names)) return Promise.resolve(hit.names);
	} catch (e) { /* a bad entry is asked again */ }
	return ask()
		.then((names) => {
			sessionStorage.setItem(key, JSON.stringify({ at: Date.now(), names }));
			return names;
		})
		.catch(() => []);
}

export function agentNames(range) {
	const len = Math.min(rangeMs(range) ?? Infinity, rangeMs('7d'));
	return kept('lg-agents-' + len, () => get('/api/stats', { by: 'agent', since: new Date(Date.now() - len).toISOString() })
		.then((d) => (d.groups || []).map((g) => g.key).filter((k) => k !== '(none)').sort()));
}

// [id, label] pairs, as select() takes them.
export function policyNames() {
	return kept('lg-policies', () => get('/api/policies')
		.then((ps) => ps.map((p) => [p.id, p.name ? p.name + ' (' + p.id + ')' : p.id])));
}
