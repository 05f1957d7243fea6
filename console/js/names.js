// The agent names the filter lists offer: the agents of the page's own
// period, at most the last 7 days, asked after the page's data, never
// before it, and kept a minute in the tab (sessionStorage) so that moving
// between pages does not ask again.
import { get } from './api.js';
import { rangeMs } from './period.js';

const KEEP_MS = 60e3;

export function agentNames(range) {
	const len = Math.min(rangeMs(range) ?? Infinity, rangeMs('7d'));
	const key = 'lg-agents-' + len;
	try {
		const hit = JSON.parse(sessionStorage.getItem(key) || 'null');
		if (hit && Date.now() - hit.at < KEEP_MS && Array.isArray(hit.names)) return Promise.resolve(hit.names);
	} catch (e) { /* a bad entry is asked again */ }
	return get('/api/stats', { by: 'agent', since: new Date(Date.now() - len).toISOString() })
		.then((d) => {
			const names = (d.groups || []).map((g) => g.key).filter((k) => k !== '(none)').sort();
			sessionStorage.setItem(key, JSON.stringify({ at: Date.now(), names }));
			return names;
		})
		.catch(() => []);
}
