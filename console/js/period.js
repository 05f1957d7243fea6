// Time ranges: [from, to) as ISO strings, which the API passes to lg-store's
// --from/--to, and the range just before it for trends.
export const RANGES = [['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'],
	['30d', 'Last 30 days'], ['all', 'All time']];

const MS = { h: 3600e3, d: 86400e3 };

export function rangeMs(r) {
	const m = /^(\d+)([hd])$/.exec(r || '');
	return m ? Number(m[1]) * MS[m[2]] : null;
}

// The window ends at the next whole minute, so that the requests of one
// page load ask the same question (and a test can ask lg-store the same).
export function window_(r, now = Date.now()) {
	const len = rangeMs(r);
	const to = Math.ceil(now / 60000) * 60000;
	if (len === null) return { from: null, to: null, prevFrom: null, prevTo: null, len: null };
	return {
		from: new Date(to - len).toISOString(), to: new Date(to).toISOString(),
		prevFrom: new Date(to - 2 * len).toISOString(), prevTo: new Date(to - len).toISOString(), len,
	};
}

// Hour buckets: the stats key of an hour group ("2026-12-06T11", or a full
// timestamp) reduced to its hour.
export function hourKey(k) {
	const m = /^(\d{4}-\d\d-\d\dT\d\d)/.exec(String(k));
	return m ? m[1] : null;
}

export function hoursBetween(fromIso, toIso) {
	const out = [];
	let t = Math.floor(Date.parse(fromIso) / 3600e3) * 3600e3;
	const end = Date.parse(toIso);
	while (t < end && out.length < 24 * 31) { out.push(new Date(t).toISOString().slice(0, 13)); t += 3600e3; }
	return out;
}
