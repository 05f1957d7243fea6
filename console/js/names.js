// The agent names the filter lists offer. lg-store's stats read every
// record of the window they cover, so the list comes from the page's own
// period, at most the last 7 days, and loads after the page's data, never
// before it. Kept for a minute per window.
import { get } from './api.js';
import { rangeMs } from './period.js';

const cache = new Map();

export function agentNames(range) {
	const len = Math.min(rangeMs(range) ?? Infinity, rangeMs('7d'));
	const key = String(len);
	const hit = cache.get(key);
	if (hit && Date.now() - hit.at < 60e3) return hit.names;
	const names = get('/api/stats', { by: 'agent', since: new Date(Date.now() - len).toISOString() })
		.then((d) => (d.groups || []).map((g) => g.key).filter((k) => k !== '(none)').sort())
		.catch(() => []);
	cache.set(key, { at: Date.now(), names });
	return names;
}
