// Charts through Chart.js (Debian's libjs-chart.js, served at /vendor/chart.js).
import { h } from './dom.js';

const PALETTE = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#be185d', '#4d7c0f'];
export const SEV_COLORS = { critical: '#b91c1c', high: '#ea580c', medium: '#ca8a04', low: '#64748b' };

export function color(i) { return PALETTE[i % PALETTE.length]; }

// Chart.js (200 KB) loads beside the page, not before it: the page's own
// scripts and data never wait for it, only its charts do. Asked for as
// soon as this module runs; resolves when it has loaded or failed.
let lib = null;
export function chartLib() {
	if (!lib) lib = new Promise((resolve) => {
		if (typeof window.Chart === 'function') { resolve(); return; }
		const s = document.createElement('script');
		s.src = '/vendor/chart.js';
		s.onload = s.onerror = () => resolve();
		document.head.appendChild(s);
	});
	return lib;
}
chartLib();

// A chart in a box of fixed height (after chartLib() has resolved);
// returns { el, chart } (chart null when the library is missing, with a
// note saying so).
export function chartBox(title, config, cls = '') {
	const canvas = h('canvas', { role: 'img', 'aria-label': title });
	const el = h('figure.chart' + (cls ? '.' + cls : ''), null, h('figcaption', null, title), h('div.chart-area', null, canvas));
	if (typeof window.Chart !== 'function') {
		el.appendChild(h('p.muted', null, 'Chart library not available (/vendor/chart.js).'));
		return { el, chart: null };
	}
	config.options = Object.assign({
		animation: false, responsive: true, maintainAspectRatio: false,
		interaction: { mode: 'index', intersect: false },
		plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
	}, config.options || {});
	const chart = new window.Chart(canvas, config);
	return { el, chart };
}
