// The console: hash routes, the token form, and one module per page.
import { h, clear, showError } from './dom.js';
import { token, setToken, forgetToken, setUnauthorizedHandler, api } from './api.js';
import * as agents from './agents.js';
import * as violations from './violations.js';
import * as traces from './traces.js';
import * as integrations from './integrations.js';

const PAGES = { agents, violations, traces, integrations };
const main = document.getElementById('main');
let current = null;   // { cleanup } of the page on screen
let generation = 0;   // a newer navigation makes older renders stop drawing

function parseRoute() {
	const raw = location.hash.replace(/^#\/?/, '');
	const [pathPart, qs] = raw.split('?');
	const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
	const page = PAGES[parts[0]] ? parts[0] : 'agents';
	return { page, args: parts.slice(1), params: new URLSearchParams(qs || '') };
}

// Pages call this when what they show is complete: the browser test and the
// bench wait for it, and it records how long the page took.
export function ready(page) {
	const t = performance.now();
	document.body.dataset.ready = page;
	document.body.dataset.readyMs = String(Math.round(t - navStart));
	if (!document.body.dataset.paintMs) document.body.dataset.paintMs = document.body.dataset.readyMs;
	performance.mark('lg-ready-' + page);
}
// A full page load counts from the navigation itself (time origin 0), so
// the figure includes loading the page and its scripts; a hash change
// counts from the change.
let navStart = 0;
let firstRoute = true;

async function route() {
	const gen = ++generation;
	if (current && current.cleanup) current.cleanup();
	current = null;
	delete document.body.dataset.ready;
	delete document.body.dataset.paintMs;
	navStart = firstRoute ? 0 : performance.now();
	firstRoute = false;
	if (!token()) { showLogin(); return; }
	document.getElementById('logout').hidden = false;
	const r = parseRoute();
	for (const a of document.querySelectorAll('#nav a'))
		a.classList.toggle('active', a.dataset.page === r.page);
	clear(main);
	const root = h('section.page.page-' + r.page);
	main.appendChild(root);
	try {
		current = await PAGES[r.page].render(root, {
			args: r.args, params: r.params,
			live: () => gen === generation,
			ready: () => { if (gen === generation) ready(r.page); },
			// A page loading again (new filters, next page) is not ready
			// until it calls ready() once more.
			busy: () => { if (gen === generation) delete document.body.dataset.ready; },
			// The page's main content is on screen (the rest may follow).
			paint: () => {
				if (gen === generation && !document.body.dataset.paintMs)
					document.body.dataset.paintMs = String(Math.round(performance.now() - navStart));
			},
		}) || null;
	} catch (e) {
		if (gen !== generation) return;
		showError(root, e);
		ready(r.page);
	}
}

function showLogin(message) {
	document.getElementById('logout').hidden = true;
	clear(main);
	const form = document.getElementById('login-tpl').content.cloneNode(true);
	main.appendChild(form);
	const err = document.getElementById('login-error');
	if (message) err.textContent = message;
	document.getElementById('token').focus();
	document.getElementById('login').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const t = document.getElementById('token').value.trim();
		if (!t) return;
		setToken(t);
		checking = true;
		try {
			await api('/api/integrations');
			checking = false;
			route();
		} catch (e) {
			checking = false;
			forgetToken();
			err.textContent = e.status === 401 ? 'The server did not accept this token.' : String(e.message);
		}
	});
	document.body.dataset.ready = 'login';
}

// A 401 on a page: the token changed on the server; ask again. (The token
// form's own check reports a refusal in the form.)
let checking = false;
setUnauthorizedHandler(() => {
	if (checking) return;
	forgetToken();
	showLogin('The token was refused (401): enter it again.');
});

document.getElementById('logout').addEventListener('click', () => {
	forgetToken();
	showLogin();
});

window.addEventListener('hashchange', route);
route();
