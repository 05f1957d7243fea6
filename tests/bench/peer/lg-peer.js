#!/usr/bin/env node
// The benchmark's peer: what a user would write instead of
// `lg-map | lg-detect | lg-policy` -- one plain Node.js process (no npm
// packages) that reads Langfuse traces as NDJSON on stdin, maps each one to a
// LangGuard record, detects the agent, runs lg-policy's own built-in policy
// document (policy/builtin.json: keyword prefilter, regex, validators,
// entropy, allow lists, context words, masked evidence with offsets;
// thresholds, model lists, rates, required fields) and writes NDJSON. "$lg" control lines
// pass through. It is a fair peer, not a strawman: chunked reads, one
// JSON.parse and one JSON.stringify per line, batched writes.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { StringDecoder } = require('string_decoder');

// ---- map (as lg-map: map/map.c, common/metrics.c) ----------------------
const SPAN_TYPES = { GENERATION: 'llm', RETRIEVER: 'retrieval', TOOL: 'tool', AGENT: 'agent', SPAN: 'span', EVENT: 'event' };
const ms = (s) => (typeof s === 'string' ? Date.parse(s) : NaN);
const num = (v) => (typeof v === 'number' ? v : undefined);

function sumKeys(o, needle) {
  let s = 0, found = false;
  for (const k in o) if (k.includes(needle) && typeof o[k] === 'number') { s += o[k]; found = true; }
  return found ? s : undefined;
}

function spanTokens(o) {
  let inp, out, tot;
  const ud = o.usageDetails, u = o.usage;
  if (ud && typeof ud === 'object' && Object.keys(ud).length) {
    inp = sumKeys(ud, 'input'); out = sumKeys(ud, 'output'); tot = num(ud.total);
  } else if (u && typeof u === 'object' && ('input' in u || 'output' in u || 'total' in u)) {
    inp = num(u.input); out = num(u.output); tot = num(u.total);
  } else {
    inp = num(o.promptTokens) ?? num(o.inputUsage);
    out = num(o.completionTokens) ?? num(o.outputUsage);
    tot = num(o.totalTokens) ?? num(o.totalUsage);
  }
  if (inp === undefined && out === undefined && tot === undefined) return null;
  inp = inp || 0; out = out || 0;
  if (tot === undefined || (tot <= 0 && inp + out > 0)) tot = inp + out;
  return { input: Math.trunc(inp), output: Math.trunc(out), total: Math.trunc(tot) };
}

function mapObservation(o) {
  const st = ms(o.startTime), en = ms(o.endTime), cs = ms(o.completionStartTime);
  const t = o.type || '';
  const span = {
    id: o.id ?? null, parentId: o.parentObservationId ?? null,
    type: SPAN_TYPES[t.toUpperCase()] || (t ? t.toLowerCase() : 'span'),
    observationType: o.type ?? null, name: o.name ?? null,
    startTime: o.startTime ?? null, endTime: o.endTime ?? null,
  };
  if (typeof o.latency === 'number' && o.latency >= 0) span.duration = Math.round(o.latency * 1000);
  else span.duration = en >= st ? en - st : null;
  if (typeof o.timeToFirstToken === 'number' && o.timeToFirstToken >= 0) span.ttftMs = Math.round(o.timeToFirstToken * 1000);
  else if (cs >= st) span.ttftMs = cs - st;
  span.model = o.model ?? o.providedModelName ?? null;
  span.tokens = spanTokens(o);
  const c = num(o.costDetails && o.costDetails.total) ?? num(o.calculatedTotalCost) ?? num(o.totalCost);
  span.cost = c === undefined ? null : c;
  span.level = o.level ?? null;
  span.statusMessage = o.statusMessage ?? null;
  span.input = o.input ?? null;
  span.output = o.output ?? null;
  span.metadata = o.metadata ?? null;
  return span;
}

function applyMetrics(rec) {
  let tin = 0, tout = 0, ttot = 0, cost = 0, llm = 0, retr = 0, tool = 0, best = -1, ttft = -1, ttftAt = Infinity;
  let model = null, fallback = null, errors = 0, warnings = 0;
  const models = [];
  for (const s of rec.spans) {
    const tk = s.tokens || {};
    const i = num(tk.input) || 0, o = num(tk.output) || 0, t = num(tk.total) ?? i + o;
    tin += i; tout += o; ttot += t;
    if (typeof s.cost === 'number') cost += s.cost;
    const isLlm = s.type === 'llm';
    if (s.model) {
      if (!models.includes(s.model)) models.push(s.model);
      if (isLlm && t > best) { model = s.model; best = t; } else if (!fallback) fallback = s.model;
    }
    const d = typeof s.duration === 'number' ? s.duration : -1;
    if (d >= 0) { if (isLlm) llm += d; else if (s.type === 'retrieval') retr += d; else if (s.type === 'tool') tool += d; }
    const st = ms(s.startTime);
    if (isLlm && typeof s.ttftMs === 'number' && st < ttftAt) { ttft = s.ttftMs; ttftAt = st; }
    if (s.level === 'ERROR') errors++;
    if (s.level === 'WARNING') warnings++;
  }
  const total = typeof rec.duration === 'number' ? rec.duration : 0;
  const md = rec.metadata;
  md.tokens = { input: tin, output: tout, total: ttot };
  md.cost = Math.round(cost * 1e12) / 1e12;
  md.model = model || fallback;
  md.models = models;
  md.latency = {
    totalMs: Math.round(total), llmMs: Math.round(llm), retrievalMs: Math.round(retr), toolMs: Math.round(tool),
    otherMs: Math.max(0, Math.round(total - llm - retr - tool)), ttftMs: ttft >= 0 ? Math.round(ttft) : null,
  };
  rec.status = errors ? 'error' : warnings ? 'warning' : 'success';
}

function mapTrace(t, integration) {
  if (!t.id) throw new Error('trace has no "id"');
  let md = t.metadata;
  if (md === undefined || md === null) md = {};
  else if (typeof md !== 'object' || Array.isArray(md)) md = { value: md };
  const rec = {
    externalId: String(t.id), name: t.name ?? null, timestamp: t.timestamp ?? null, duration: null,
    input: t.input ?? null, output: t.output ?? null, metadata: md,
    userId: t.userId ?? null, sessionId: t.sessionId ?? null, tags: Array.isArray(t.tags) ? t.tags : [],
    status: 'success', spans: [],
  };
  const obs = Array.isArray(t.observations) ? t.observations : [];
  rec.spans = obs.filter((o) => o && typeof o === 'object').map(mapObservation);
  rec.spans.sort((a, b) => (ms(a.startTime) || Infinity) - (ms(b.startTime) || Infinity) || String(a.id).localeCompare(String(b.id)));
  let first = Infinity, last = -Infinity;
  for (const s of rec.spans) { first = Math.min(first, ms(s.startTime) || Infinity); last = Math.max(last, ms(s.endTime) || -Infinity); }
  if (typeof t.latency === 'number' && t.latency >= 0) rec.duration = Math.round(t.latency * 1000);
  else if (last >= first) rec.duration = last - first;
  applyMetrics(rec);
  rec.release = t.release ?? null;
  rec.version = t.version ?? null;
  rec.environment = t.environment ?? null;
  if (Array.isArray(t.scores) && t.scores.length) rec.scores = t.scores;
  const html = t.htmlPath ?? (t.projectId ? `/project/${t.projectId}/traces/${t.id}` : null);
  rec.source = { system: 'langfuse', integration, htmlPath: html };
  if (t.projectId) rec.source.projectId = t.projectId;
  return rec;
}

// ---- detect (as lg-detect: tags, metadata keys, AGENT spans, name patterns)
const MD_KEYS = ['agent_name', 'agentName', 'agent', 'agent.name', 'agent_id', 'gen_ai.agent.name', 'gen_ai.agent.id'];
const NAME_PATTERNS = [
  ['Agent.operation', /^([A-Za-z][A-Za-z0-9_-]*)\.[A-Za-z_][A-Za-z0-9_-]*$/],
  ['agent/operation', /^([A-Za-z][A-Za-z0-9_-]*)\/[A-Za-z_][A-Za-z0-9_-]*$/],
  ['agent:operation', /^([A-Za-z][A-Za-z0-9_-]*):\s*[A-Za-z_][A-Za-z0-9_-]*$/],
  ['[Agent] operation', /^\[([A-Za-z][A-Za-z0-9 _-]*)\]\s*\S.*$/],
];
const IGNORE = new Set(['agent', 'agents', 'agentexecutor', 'openai', 'anthropic', 'langchain', 'langgraph', 'langfuse', 'llamaindex', 'llama-index', 'litellm', 'chain', 'http', 'api', 'app']);

function mdAgent(md) {
  if (!md || typeof md !== 'object') return null;
  for (const k of MD_KEYS) if (typeof md[k] === 'string' && md[k]) return [k, md[k]];
  for (const nest of ['attributes', 'resourceAttributes']) {
    const a = md[nest];
    if (a && typeof a === 'object') for (const k of MD_KEYS) if (typeof a[k] === 'string' && a[k]) return [`${nest}.${k}`, a[k]];
  }
  return null;
}

function detectAgent(rec) {
  const cands = [];
  for (const tag of rec.tags) {
    const m = typeof tag === 'string' && /^agent[:=](.+)$/i.exec(tag);
    if (m) cands.push({ name: m[1], source: 'tag', key: tag, confidence: 0.95 });
  }
  const root = rec.spans.find((s) => !s.parentId);
  const mda = mdAgent(rec.metadata) || (root && mdAgent(root.metadata));
  if (mda) cands.push({ name: mda[1], source: 'metadata', key: mda[0], confidence: 0.9 });
  const ids = new Set(rec.spans.filter((s) => s.type === 'agent').map((s) => s.id));
  const agents = rec.spans.filter((s) => s.type === 'agent' && s.name && !IGNORE.has(s.name.toLowerCase()));
  const outer = agents.find((s) => !ids.has(s.parentId));
  if (outer) cands.push({ name: outer.name, source: 'observation', key: outer.id, confidence: 0.8 });
  if (typeof rec.name === 'string') {
    for (const [pname, re] of NAME_PATTERNS) {
      const m = re.exec(rec.name);
      if (m && !IGNORE.has(m[1].toLowerCase())) {
        const known = cands.find((c) => c.name.toLowerCase() === m[1].toLowerCase());
        cands.push({ name: known ? known.name : m[1], source: 'pattern', key: pname, confidence: known ? 0.7 : 0.5 });
        break;
      }
    }
  }
  if (!cands.length) { rec.agent = null; return; }
  const best = cands[0];
  const conflicts = cands.filter((c) => c.name.toLowerCase() !== best.name.toLowerCase()).map((c) => ({ name: c.name, source: c.source }));
  rec.agent = { name: best.name, source: best.source, key: best.key, confidence: best.confidence, version: null };
  if (conflicts.length) rec.agent.conflicts = conflicts;
  const names = [...new Set(agents.map((s) => s.name))];
  if (names.length > 1) rec.agents = names;
  rec.metadata.agent_name = best.name;
}

// ---- policies: lg-policy's own built-in document (policy/builtin.json) ----
// The same policies, regexes, keywords, validators, entropy floors, allow
// lists and context words, translated to JavaScript RegExp: a PCRE2 "(?i)"
// becomes the i flag of the whole pattern (JS has no inline modifiers).
function luhn(s) {
  const d = s.replace(/\D/g, '');
  if (d.length < 13 || d.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let x = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2) { x *= 2; if (x > 9) x -= 9; }
    sum += x;
  }
  return sum % 10 === 0;
}
function ibanOk(s) {
  const t = s.replace(/\s/g, '').toUpperCase();
  const r = t.slice(4) + t.slice(0, 4);
  let m = 0;
  for (const ch of r) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) m = (m * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return m === 1;
}
function ssnOk(s) {
  const d = s.replace(/\D/g, '');
  const a = d.slice(0, 3), g = d.slice(3, 5), n = d.slice(5);
  return a !== '000' && a !== '666' && a[0] !== '9' && g !== '00' && n !== '0000';
}
const VALIDATORS = {
  luhn, iban: ibanOk, ssn: ssnOk,
  ipv4: (s) => s.split('.').every((p) => +p <= 255 && !(p.length > 1 && p[0] === '0')) && s !== '0.0.0.0',
  ipv6: (s) => require('net').isIPv6(s) && (s.match(/[0-9a-f]/gi) || []).length >= 4 && !/^(0*:)*:?0*1$/.test(s),
  email: (s) => !/\.\./.test(s) && s.indexOf('@') > 0,
  phone: (s) => { const d = s.replace(/\D/g, ''); return d.length >= 10 && d.length <= 15 && !/^(\d)\1+$/.test(d); },
  jwt: (s) => { try { const h = JSON.parse(Buffer.from(s.split('.')[0], 'base64url').toString()); return typeof h.alg === 'string' && (!s.endsWith('.') || h.alg.toLowerCase() === 'none'); } catch (e) { return false; } },
  token: (s) => !placeholder(s) && !hasRun(s, 8),
  secret: secretOk,
  password: passwordOk,
  basic: (s) => { const t = Buffer.from(s, 'base64').toString(); const i = t.indexOf(':'); return i > 0 && !/[\x00-\x1f\x7f]/.test(t) && passwordOk(t.slice(i + 1)); },
};
// The secret validators of policy/validators.c, the same lists and rules.
const PUBLIC_EXAMPLES = ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  'sk_test_BQokikJOvBiI2HlWgH4olfQ2', 'sk_test_26PHem9AhJZvU623DfE1x4sd', 'rk_test_26PHem9AhJZvU623DfE1x4sd', 'whsec_1234567890abcdef',
  'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'EAACEdEose0cBA',
  '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'];
const PARTS = ['example', '****', '####', '....', 'sample', 'dummy', 'placeholder', 'redacted', 'your_', 'your-', 'yourapi', 'yourkey',
  'yoursecret', 'yourtoken', '<', '>', '${', '{{', '$(', '%s', '%(', 'changeme', 'change_me', 'change-me', 'replace_me', 'replaceme',
  'insert_', 'enter_', 'fake', 'notreal', 'not_real', 'todo', 'fixme', 'lorem', 'ipsum', 'process.env', 'os.environ', 'getenv', 'env[',
  'secrets.', 'vault:', 'ssm:', 'arn:'];
const WORDS = new Set(['password', 'passwd', 'secret', 'token', 'apikey', 'api_key', 'null', 'none', 'nil', 'undefined', 'true', 'false',
  'empty', 'string', 'required', 'optional', 'hidden', 'masked', 'default', 'test', 'testing', 'admin', 'root', 'user', 'username', 'pass',
  'letmein', 'qwerty', 'hunter2', 'abc123', 'pass123', 'password1', 'password123', 'secret123', 'p@ssw0rd', 'p@ssword', 'mypassword',
  'mysecret', 'supersecret']);
function placeholder(s) {
  if (PUBLIC_EXAMPLES.some((e) => s.includes(e)) || s.includes('xxxx') || s.includes('XXXX')) return true;
  const lo = s.toLowerCase();
  return PARTS.some((p) => lo.includes(p));
}
function hasRun(s, len) {
  let same = 1, up = 1, down = 1;
  for (let i = 1; i < s.length; i++) {
    const a = s.charCodeAt(i), b = s.charCodeAt(i - 1);
    same = a === b ? same + 1 : 1; up = a === b + 1 ? up + 1 : 1; down = a === b - 1 ? down + 1 : 1;
    if (same >= len || up >= len || down >= len) return true;
  }
  return false;
}
function secretOk(s) {
  const n = s.length;
  if (n < 8 || n > 256 || placeholder(s) || WORDS.has(s.toLowerCase()) || hasRun(s, 6) || /^[\/.~$%-]/.test(s)) return false;
  const digits = /\d/.test(s), letters = /[A-Za-z]/.test(s), other = /[^A-Za-z0-9_.]/.test(s), upper = /[A-Z]/.test(s);
  if (!letters || (!digits && !other)) return false;
  if (!digits && !upper && n < 20) return false;
  return entropy(s) >= (n < 12 ? 2.5 : n < 20 ? 3.0 : 3.3);
}
function passwordOk(s) {
  if (s.length < 3 || placeholder(s) || WORDS.has(s.toLowerCase()) || hasRun(s, 6) || /^[\[*$%{]/.test(s)) return false;
  return !(s.length <= 4 && /pw|pwd|pass/i.test(s));
}
function entropy(s) {
  const f = new Map();
  for (const ch of s) f.set(ch, (f.get(ch) || 0) + 1);
  let h = 0;
  for (const c of f.values()) { const p = c / s.length; h -= p * Math.log2(p); }
  return h;
}
const MASKS = {
  secret: (s) => (s.length <= 8 ? '*'.repeat(s.length) : s.slice(0, 4) + '…' + s.slice(-4)),
  email: (s) => s[0] + '***@' + s.split('@')[1],
  digits: (s) => s.replace(/\d(?=(?:\D*\d){4})/g, '*'),
  ip: (s) => (s.includes(':') ? s.replace(/^([^:]*:[^:]*:)(.*)$/, (m, a, b) => a + b.replace(/[0-9a-f]+/gi, '*'))
    : s.replace(/\.\d+\.\d+$/, '.*.*')),
};
function jsRegex(src, global) {
  let flags = global ? 'g' : '';
  const lead = /^\(\?([im]+)\)/.exec(src);
  if (lead) { flags += lead[1]; src = src.slice(lead[0].length); }
  if (src.includes('(?i')) { if (!flags.includes('i')) flags += 'i'; src = src.replace(/\(\?i\)/g, '').replace(/\(\?i:/g, '(?:'); }
  if (src.startsWith('(?s)')) { flags += 's'; src = src.slice(4); }
  // Node 20 has no inline modifiers: a case-sensitive group becomes plain
  src = src.replace(/\(\?-i:/g, '(?:');
  return new RegExp(src, flags);
}
// A pattern with "scorer": "injection": the same scorer (injection.js).
const { injScan } = require('./injection.js');
function loadPolicies() {
  const path = require('path').join(__dirname, '../../../policy/builtin.json');
  const doc = JSON.parse(fs.readFileSync(path, 'utf8'));
  return doc.policies.filter((p) => p.enabled !== false).map((p) => {
    const q = { ...p };
    if (p.kind === 'pattern') {
      q.patterns = p.patterns.map((d) => ({
        ...d, re: d.scorer ? null : jsRegex(d.regex, true), keyRe: d.keyRegex ? jsRegex(d.keyRegex, false) : null,
        allowRe: d.allow ? jsRegex(d.allow, false) : null, kw: d.keywords ? d.keywords.map((k) => k.toLowerCase()) : null,
        ckw: d.caseKeywords || null,
        ctx: d.context ? d.context.map((k) => k.toLowerCase()) : null, win: d.contextWindow || 40,
      }));
      q.targets = p.targets.map(parseTarget);
    }
    return q;
  });
}
// "spans[type=tool,llm].input" -> { span: true, types: ['tool','llm'], path: 'input' }
function parseTarget(t) {
  const m = /^spans\[(\*|type=([^\]]+))\]\.?(.*)$/.exec(t);
  return m ? { span: true, types: m[2] ? m[2].split(',') : null, path: m[3] } : { span: false, path: t };
}
function getPath(o, path) {
  if (!path) return o;
  for (const k of path.split('.')) { if (o === null || typeof o !== 'object') return undefined; o = o[k]; }
  return o;
}
// Every [location, value] a target names in a record.
function* targetValues(rec, t) {
  if (!t.span) { yield [t.path, getPath(rec, t.path)]; return; }
  for (let i = 0; i < rec.spans.length; i++) {
    const s = rec.spans[i];
    if (t.types && !t.types.includes(s.type)) continue;
    yield [`spans[${i}]${t.path ? '.' + t.path : ''}`, getPath(s, t.path)];
  }
}
function* strings(v, path, key) {
  if (typeof v === 'string') yield [path, v, key];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* strings(v[i], `${path}[${i}]`, key);
  else if (v && typeof v === 'object') for (const k in v) yield* strings(v[k], `${path}.${k}`, k);
}
const vid = (...parts) => crypto.createHash('sha1').update(parts.join('|')).digest('hex').slice(0, 16);
function violation(rec, p, loc, detector, message, evidence, now) {
  return { id: vid(p.id, rec.externalId, loc, detector, evidence.start ?? ''), policy: p.id, severity: p.severity,
    message, evidence: { location: loc, detector, ...evidence }, status: 'new', detectedAt: now };
}
function scanString(p, rec, loc, s, key, out, now) {
  let lower = null, digits = -1;
  for (const d of p.patterns) {
    if (d.keyRe) { if (!key || !d.keyRe.test(key)) continue; }
    if (d.scorer) {
      lower = lower || s.toLowerCase();
      const r = injScan(s, lower);
      if (r.score >= (d.threshold || 50))
        out.push(violation(rec, p, loc, d.name, (d.message || p.message).replace('{detector}', d.name).replace('{location}', loc),
          { start: r.start, end: r.end, match: s.slice(r.start, Math.min(r.end, r.start + 160)), score: r.score,
            threshold: d.threshold || 50, signals: r.signals }, now));
      continue;
    }
    if (d.kw || d.ckw) {
      lower = lower || s.toLowerCase();
      if (!(d.kw && d.kw.some((k) => lower.includes(k))) && !(d.ckw && d.ckw.some((k) => s.includes(k)))) continue;
    }
    if (d.minDigits) {
      if (digits < 0) { digits = 0; for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c >= 48 && c <= 57) digits++; } }
      if (digits < d.minDigits) continue;
    }
    d.re.lastIndex = 0;
    let m;
    while ((m = d.re.exec(s))) {
      if (m[0].length === 0) { d.re.lastIndex++; continue; }
      const hit = d.group ? m[d.group] : m[0];
      if (hit === undefined) continue;
      if (d.validator && VALIDATORS[d.validator] && !VALIDATORS[d.validator](hit)) continue;
      if (d.minEntropy && entropy(hit) < d.minEntropy) continue;
      if (d.allowRe && d.allowRe.test(hit)) continue;
      const start = m.index + (d.group ? m[0].indexOf(hit) : 0);
      if (d.ctx) {
        const near = s.slice(Math.max(0, start - d.win), start + hit.length + d.win).toLowerCase();
        if (d.contextRequired && !d.ctx.some((w) => near.includes(w))) continue;
      }
      const masked = (MASKS[d.mask] || ((x) => x))(hit);
      out.push(violation(rec, p, loc, d.name, (d.message || p.message).replace('{detector}', d.name).replace('{location}', loc),
        { start, end: start + hit.length, match: masked }, now));
    }
  }
}
function measure(v, how) {
  if (how === 'chars') return typeof v === 'string' ? [...v].length : v == null ? undefined : JSON.stringify(v).length;
  if (how === 'words') { const t = typeof v === 'string' ? v : v == null ? '' : JSON.stringify(v); return t.split(/\s+/).filter(Boolean).length; }
  return typeof v === 'number' ? v : undefined;
}
const rateSeen = new Map(); // key -> timestamps (ms), oldest first
function evaluate(rec, now) {
  const v = [];
  for (const p of POLICIES) {
    if (p.kind === 'pattern') {
      for (const t of p.targets) for (const [loc, val] of targetValues(rec, t))
        for (const [sloc, s, key] of strings(val, loc, null)) scanString(p, rec, sloc, s, key, v, now);
    } else if (p.kind === 'threshold') {
      for (const c of p.checks) for (const [loc, val] of targetValues(rec, parseTarget(c.path))) {
        const x = measure(val, c.measure);
        if (x !== undefined && x > c.limit) v.push(violation(rec, p, loc, c.name, `${c.name} ${x} > ${c.limit} (${loc})`, { actual: x, limit: c.limit }, now));
      }
    } else if (p.kind === 'list') {
      for (const path of p.values) for (const [loc, val] of targetValues(rec, parseTarget(path))) {
        if (typeof val !== 'string' || !val) continue;
        const covers = (n) => val === n || val.startsWith(n + '-');
        const reason = (p.deprecated || []).some(covers) ? 'deprecated' : (p.approved || []).some(covers) ? null : 'not approved';
        if (reason) v.push(violation(rec, p, loc, 'model', `Model '${val}' is ${reason} (${loc})`, { value: val }, now));
      }
    } else if (p.kind === 'rate') {
      const key = p.keys.map((k) => getPath(rec, k)).find((x) => typeof x === 'string' && x);
      const ts = Date.parse(rec.timestamp);
      if (!key || isNaN(ts)) continue;
      // Timestamps of this key, kept sorted (input is not in time order).
      let list = rateSeen.get(key);
      if (!list) rateSeen.set(key, (list = []));
      list.splice(lowerBound(list, ts + 1), 0, ts);
      for (const l of p.limits) {
        const win = l.ms || (l.ms = parseDur(l.window));
        const n = lowerBound(list, ts + 1) - lowerBound(list, ts - win + 1);
        if (n > l.max) v.push(violation(rec, p, 'timestamp', l.window, `${n} traces in ${l.window} for ${key}`, { actual: n, limit: l.max }, now));
      }
    } else if (p.kind === 'required') {
      for (const f of p.fields) { const x = getPath(rec, f); if (x === undefined || x === null || x === '') v.push(violation(rec, p, f, 'required', `${f} is missing`, {}, now)); }
    }
  }
  rec.violations = v;
  rec.evaluation = { contentHash: vid(JSON.stringify(rec.spans.length), rec.externalId), policies: POLICIES.map((p) => p.id), evaluatedAt: now };
}
function lowerBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < x) lo = m + 1; else hi = m; }
  return lo;
}
function parseDur(s) { const m = /^(\d+)([smhd])$/.exec(s); return m ? +m[1] * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2]] : 0; }
const POLICIES = loadPolicies();

// ---- the stream loop ----------------------------------------------------
function main() {
  const integration = process.argv[2] || null;
  const now = new Date().toISOString();
  const buf = Buffer.allocUnsafe(1 << 20);
  const dec = new StringDecoder('utf8'); // a chunk may end inside a character
  let carry = '', out = [], outLen = 0, bad = 0, lineno = 0;
  const flush = () => { if (out.length) { fs.writeSync(1, out.join('')); out = []; outLen = 0; } };
  const line = (l) => {
    lineno++;
    if (!l.trim()) return;
    let t;
    try { t = JSON.parse(l); } catch (e) { bad++; process.stderr.write(`lg-peer: <stdin>:${lineno}: ${e.message}\n`); return; }
    let s;
    if (t && typeof t === 'object' && '$lg' in t) s = l;
    else {
      try { const rec = mapTrace(t, integration); detectAgent(rec); evaluate(rec, now); s = JSON.stringify(rec); }
      catch (e) { bad++; process.stderr.write(`lg-peer: <stdin>:${lineno}: ${e.message}\n`); return; }
    }
    out.push(s, '\n');
    outLen += s.length + 1;
    if (outLen > (1 << 20)) flush();
  };
  for (;;) {
    let n;
    try { n = fs.readSync(0, buf, 0, buf.length, null); } catch (e) { if (e.code === 'EAGAIN') continue; if (e.code === 'EOF') n = 0; else throw e; }
    if (n === 0) break;
    const parts = (carry + dec.write(buf.subarray(0, n))).split('\n');
    carry = parts.pop();
    for (const p of parts) line(p.endsWith('\r') ? p.slice(0, -1) : p);
  }
  if (carry) line(carry);
  flush();
  process.exitCode = bad ? 1 : 0;
}

main();
