// The API client: the token lives in sessionStorage (this tab only, no
// cookie) and goes out as a bearer header.

const KEY = 'lg-token';

export function token() { return sessionStorage.getItem(KEY); }
export function setToken(t) { sessionStorage.setItem(KEY, t); }
export function forgetToken() { sessionStorage.removeItem(KEY); }

export class ApiError extends Error {
	constructor(status, code, message, detail) {
		super(message);
		this.status = status;
		this.code = code;
		this.detail = detail || {};
	}
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

// query({a: 1, b: ''}) -> "?a=1": empty values are left out.
export function query(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {})) {
		if (v === undefined || v === null || v === '' || v === false) continue;
		q.set(k, String(v));
	}
	const s = q.toString();
	return s ? '?' + s : '';
}

export async function api(path, { method = 'GET', body, signal } = {}) {
	const headers = { Accept: 'application/json' };
	const t = token();
	if (t) headers.Authorization = 'Bearer ' + t;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(path, {
		method, headers, signal, credentials: 'omit', cache: 'no-store',
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	let json = null;
	const text = await res.text();
	if (text) {
		try { json = JSON.parse(text); } catch (e) {
			throw new ApiError(res.status, 'bad_json', path + ': the server sent something that is not JSON');
		}
	}
	if (!res.ok || (json && json.success === false)) {
		const e = json && json.error ? json.error : {};
		const err = new ApiError(res.status, e.code || 'http_' + res.status,
			(e.message || res.statusText || 'request failed') + ' (' + method + ' ' + path.split('?')[0] + ')', e);
		if (res.status === 401) onUnauthorized(err);
		throw err;
	}
	return json;
}

// The payload of a success: `data` where the endpoint wraps it.
export function data(json) {
	return json && Object.prototype.hasOwnProperty.call(json, 'data') ? json.data : json;
}

export async function get(path, params, opts) { return data(await api(path + query(params), opts)); }
