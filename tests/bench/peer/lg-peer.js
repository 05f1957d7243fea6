#!/usr/bin/env node
// The benchmark's peer: what a user would write instead of
// `lg-map | lg-detect | lg-policy` -- one plain Node.js process (no npm
// packages) that reads Langfuse traces as NDJSON on stdin, maps each one to a
// LangGuard record, detects the agent, runs the same kinds of regex policies
// (keyword prefilter, regex, validators, masked evidence with offsets,
// token/length thresholds) and writes NDJSON on stdout. "$lg" control lines
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

// ---- policies (the built-in pattern detectors of lg-policy) -------------
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
  const [a, g, n] = s.split('-');
  return a !== '000' && a !== '666' && a[0] !== '9' && g !== '00' && n !== '0000';
}
function ipv4Ok(s) { return s.split('.').every((p) => +p <= 255) && s !== '0.0.0.0'; }
function entropy(s) {
  const f = new Map();
  for (const ch of s) f.set(ch, (f.get(ch) || 0) + 1);
  let h = 0;
  for (const c of f.values()) { const p = c / s.length; h -= p * Math.log2(p); }
  return h;
}
const mask = (s) => (s.length <= 8 ? '*'.repeat(s.length) : s.slice(0, 4) + '…' + s.slice(-4));

const POLICIES = [
  { id: 'pii-detection', severity: 'high', detectors: [
    { name: 'email', re: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, kw: ['@'] },
    { name: 'phone', re: /(?:\+?1[ .-]?)?\(?\b[2-9]\d{2}\)?[ .-]\d{3}[ .-]\d{4}\b/g, digits: 10 },
    { name: 'ssn', re: /\b\d{3}-\d{2}-\d{4}\b/g, digits: 9, check: ssnOk },
    { name: 'credit-card', re: /\b(?:\d[ -]?){12,18}\d\b/g, digits: 13, check: luhn },
    { name: 'ip-address', re: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g, digits: 4, check: ipv4Ok },
    { name: 'iban', re: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, digits: 4, check: ibanOk },
  ] },
  { id: 'credential-exposure', severity: 'critical', detectors: [
    { name: 'openai-key', re: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}\b/g, kw: ['sk-'] },
    { name: 'anthropic-key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g, kw: ['sk-ant-'] },
    { name: 'aws-access-key', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, kw: ['akia', 'asia'] },
    { name: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})\b/g, kw: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'] },
    { name: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}\b/g, kw: ['aiza'] },
    { name: 'slack-token', re: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, kw: ['xox'] },
    { name: 'private-key', re: /-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/g, kw: ['private key'] },
    { name: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, kw: ['eyj'] },
    { name: 'langfuse-key', re: /\b[ps]k-lf-[A-Za-z0-9-]{8,}\b/g, kw: ['pk-lf-', 'sk-lf-'] },
    { name: 'generic-api-key', re: /(?:api[_-]?key|secret|token)["']?\s*[:=]\s*["']?([A-Za-z0-9_\-]{16,})/gi, kw: ['api_key', 'api-key', 'apikey', 'secret', 'token'], entropy: 3.5, group: 1 },
  ] },
  { id: 'prompt-injection', severity: 'high', spanTypes: null, detectors: [
    { name: 'ignore-instructions', re: /\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:previous|prior|above|earlier)\s+(?:instructions|prompts|rules)\b/gi, kw: ['ignore', 'disregard', 'forget'] },
    { name: 'role-override', re: /\byou are now\b|\bact as (?:an? )?(?:unrestricted|jailbroken|DAN)\b|\bsystem prompt\b/gi, kw: ['you are now', 'act as', 'system prompt'] },
  ] },
  { id: 'sql-injection', severity: 'high', spanTypes: ['tool', 'llm'], detectors: [
    { name: 'destructive-sql', re: /\b(?:DROP\s+(?:TABLE|DATABASE|SCHEMA)|TRUNCATE\s+TABLE|ALTER\s+TABLE)\b/gi, kw: ['drop', 'truncate', 'alter'] },
    { name: 'delete-without-where', re: /\bDELETE\s+FROM\s+\w+\s*(?:;|$)/gim, kw: ['delete'] },
  ] },
];

function* strings(v, path) {
  if (typeof v === 'string') yield [path, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* strings(v[i], `${path}[${i}]`);
  else if (v && typeof v === 'object') for (const k in v) yield* strings(v[k], `${path}.${k}`);
}

function scan(policy, rec, path, value, out, now) {
  for (const [loc, s] of strings(value, path)) {
    const lower = s.toLowerCase();
    for (const d of policy.detectors) {
      if (d.kw && !d.kw.some((k) => lower.includes(k))) continue;
      if (d.digits) { let n = 0; for (let i = 0; i < s.length && n < d.digits; i++) { const c = s.charCodeAt(i); if (c >= 48 && c <= 57) n++; } if (n < d.digits) continue; }
      d.re.lastIndex = 0;
      let m;
      while ((m = d.re.exec(s))) {
        const hit = d.group ? m[d.group] : m[0];
        if (m[0].length === 0) { d.re.lastIndex++; continue; }
        if (d.check && !d.check(hit)) continue;
        if (d.entropy && entropy(hit) < d.entropy) continue;
        const start = m.index + (d.group ? m[0].indexOf(hit) : 0);
        const id = crypto.createHash('sha1').update(`${policy.id}|${rec.externalId}|${loc}|${start}|${d.name}`).digest('hex').slice(0, 16);
        out.push({ id, policy: policy.id, severity: policy.severity, message: `${d.name} detected in ${loc}`,
          evidence: { detector: d.name, location: loc, start, end: start + hit.length, match: mask(hit) },
          status: 'new', detectedAt: now });
      }
    }
  }
}

function evaluate(rec, now) {
  const v = [];
  for (const p of POLICIES) {
    scan(p, rec, 'input', rec.input, v, now);
    scan(p, rec, 'output', rec.output, v, now);
    scan(p, rec, 'metadata', rec.metadata, v, now);
    rec.spans.forEach((s, i) => {
      if (p.spanTypes && !p.spanTypes.includes(s.type)) return;
      scan(p, rec, `spans[${i}].input`, s.input, v, now);
      scan(p, rec, `spans[${i}].output`, s.output, v, now);
    });
  }
  // Thresholds: tokens per llm span, tokens per trace, output length.
  const limits = [['input', 4000], ['output', 2000], ['total', 6000]];
  rec.spans.forEach((s, i) => {
    if (s.type !== 'llm' || !s.tokens) return;
    for (const [k, lim] of limits) if (s.tokens[k] > lim)
      v.push({ id: `tok-${rec.externalId}-${i}-${k}`, policy: 'token-usage-limit', severity: 'medium', message: `tokens.${k} ${s.tokens[k]} > ${lim}`,
        evidence: { location: `spans[${i}].tokens.${k}`, value: s.tokens[k] }, status: 'new', detectedAt: now });
  });
  if (rec.metadata.tokens.total > 20000)
    v.push({ id: `tok-${rec.externalId}`, policy: 'token-usage-limit', severity: 'medium', message: 'trace tokens over 20000', evidence: { location: 'metadata.tokens.total' }, status: 'new', detectedAt: now });
  const outText = typeof rec.output === 'string' ? rec.output : JSON.stringify(rec.output ?? '');
  if (outText.length > 10000 || outText.split(/\s+/).length > 2000)
    v.push({ id: `len-${rec.externalId}`, policy: 'output-length', severity: 'low', message: 'output too long', evidence: { location: 'output', value: outText.length }, status: 'new', detectedAt: now });
  rec.violations = v;
  rec.evaluation = { policies: POLICIES.map((p) => p.id).concat(['token-usage-limit', 'output-length']), evaluatedAt: now };
}

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
