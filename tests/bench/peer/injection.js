// The benchmark peer's prompt-injection scorer: policy/injection.c in
// JavaScript, so the peer does the same work as lg-policy for a pattern
// with "scorer": "injection". The vocabulary, the keyword list and the
// markup are read from policy/injection_words.h and policy/injection.c
// themselves (one source of truth); the rules
// are the same rules, word for word. Returns {score, signals, start, end}
// (start/end in UTF-16 units of the string).
'use strict';
const fs = require('fs');
const path = require('path');

const SIGNALS = ['override', 'extraction', 'persona', 'unrestricted', 'alter-ego', 'role-markup', 'urgency',
  'addresses-ai', 'redirect', 'base64', 'spaced-out'];
const [OVERRIDE, EXTRACT, PERSONA, UNRESTRICT, ALTEREGO, ROLE, URGENCY, ADDRESS, REDIRECT, BASE64, SPACED] =
  SIGNALS.map((_, i) => i);
const CAPS = [90, 80, 30, 60, 80, 60, 30, 30, 40, 100, 100];

const src = ['injection_words.h', 'injection.c']
  .map((f) => fs.readFileSync(path.join(__dirname, '../../../policy', f), 'utf8')).join('\n');
const BIT = {};
for (const m of src.matchAll(/\t(W_[A-Z]+) = 1u << (\d+),/g)) BIT[m[1]] = 1 << +m[2];
const C = (name) => BIT[name];
const VOCAB = new Map();
const vocabText = src.slice(src.indexOf('static const vword vocab[]'), src.indexOf('/* Open addressing'));
for (const m of vocabText.matchAll(/\{ ((?:"[^"]*"\s*)+), ([A-Z_| ]+) \}/g)) {
  const raw = [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('');
  const w = Buffer.from(raw.replace(/\\x([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1')
    .toString('utf8');
  const cls = m[2].split('|').reduce((a, n) => a | (BIT[n.trim()] || 0), 0);
  VOCAB.set(w, (VOCAB.get(w) || 0) | cls);
}
const kwText = src.slice(src.indexOf('const char *const inj_keywords[]'), src.indexOf('/* ---- vocabulary'))
  .replace(/\/\*[^]*?\*\//g, '');
const KEYWORDS = [...kwText.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
  m[1].replace(/\\x([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))))
  .map((k) => (/[\x80-\xff]/.test(k) ? Buffer.from(k, 'latin1').toString('utf8') : k));
const MARKS = [...src.slice(src.indexOf('static const markup marks[]')).matchAll(/\{ "([^"]+)", (\d+), (\d+) \}/g)]
  .map((m) => [m[1], +m[2], +m[3]]);
// A table not found would leave the peer scoring without it, quietly.
if (!VOCAB.size || !KEYWORDS.length || !MARKS.length || !Object.keys(BIT).length)
  throw new Error('injection.js: the vocabulary, keywords or markup of policy/injection*.{c,h} not found');
const HEADS = new Set(['window', 'windows', 'engine', 'manual', 'menu', 'switch', 'switches', 'box', 'field', 'fields',
  'editor', 'file', 'files', 'template', 'templates', 'engineering', 'length', 'size', 'format', 'page', 'section', 'set',
  'sheet', 'document', 'version', 'builder', 'library', 'panel', 'cache', 'column', 'columns', 'table', 'wrapping',
  'processing', 'message', 'messages', 'bar', 'area']);
const LOOKALIKE = { 'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'х': 'x', 'у': 'y', 'і': 'i', 'ѕ': 's', 'ј': 'j',
  'А': 'a', 'Е': 'e', 'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't', 'Н': 'h', 'К': 'k', 'М': 'm', 'В': 'b', 'Х': 'x', 'І': 'i' };
const INVISIBLE = /[\u200b\u200c\u200d\u2060\ufeff\u00ad]/g;
const LEET = 'oizeasgtbg';

function hash(w) { let h = 0; for (let i = 0; i < w.length; i++) h = (h * 31 + w.charCodeAt(i)) >>> 0; return h; }

// Words: [{w, cls, s, e, brk, quote, caps, colon, comma, single}]
function tokenize(s, st) {
  const toks = [];
  const re = /[A-Za-z0-9\u0080-\uffff\u200b-\u200d\u2060\ufeff]+(?:['\u2019][a-z]+)*|[^A-Za-z0-9\u0080-\uffff]/g;
  let brk = 2, quote = 0, m, single = 0, sFrom = 0, sTo = 0;
  const endSpaced = () => { if (single >= 6 && st.spaced.length < 8) st.spaced.push([sFrom, sTo]); single = 0; };
  while ((m = re.exec(s))) {
    const t = m[0];
    if (t.length === 1 && !/[A-Za-z0-9\u0080-\uffff]/.test(t)) {
      if (t === '\n' || t === '\r') brk = 2;
      else if ('.!?;:'.includes(t)) { if (brk < 1) brk = 1; }
      else if ('"\'`'.includes(t)) quote = 1;
      else if ('<[#{'.includes(t)) markupAt(s, m.index, st);
      if (!' \t\n\r-._*/,|'.includes(t)) endSpaced();
      continue;
    }
    if (/^[\u201c\u2018\u00ab]/.test(t)) quote = 1;
    if (/\u{1f512}|\u{1f513}/u.test(t)) feat(st, 10, ALTEREGO, 30, m.index, m.index + 2);
    let w = t;
    const ascii = !/[^\x00-\x7f]/.test(t);
    if (!ascii) {
      w = t.replace(INVISIBLE, '').replace(/[\u201c\u201d\u2018\u00ab\u00bb\u2013\u2014\u2026]|\u{1f512}|\u{1f513}/gu, '');
      if (!w) continue;
      w = w.replace(/\u2019/g, "'");
    }
    const upper = (w.match(/[A-Z]/g) || []).length, lower = (w.match(/[a-z]/g) || []).length;
    w = ascii ? w.toLowerCase() : [...w].map((c) => LOOKALIKE[c] || (c >= '\uff21' && c <= '\uff3a' ? String.fromCharCode(c.charCodeAt(0) - 0xff21 + 97)
      : c >= '\uff41' && c <= '\uff5a' ? String.fromCharCode(c.charCodeAt(0) - 0xff41 + 97) : c)).join('').toLowerCase();
    if (/[0-9]/.test(w) && (w.match(/[a-z]/g) || []).length >= 2 && w.length >= 3) w = w.replace(/[0-9]/g, (d) => LEET[d]);
    if (w.length > 3 && w.endsWith("'s")) w = w.slice(0, -2);
    if ((ascii ? w.length : Buffer.byteLength(w)) > 23) w = '';
    let j = m.index + t.length;
    while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
    const after = j < s.length ? [null, s[j]] : null;
    const tok = { w, cls: VOCAB.get(w) || 0, s: m.index, e: m.index + t.length, brk, quote, caps: upper >= 2 && !lower,
      cap1: /^[A-Z]/.test(t),
      colon: !!after && after[1] === ':', comma: !!after && after[1] === ',', single: w.length === 1 && /[a-z]/.test(w) };
    if (tok.single) { if (single++ === 0) sFrom = tok.s; sTo = tok.e; } else endSpaced();
    toks.push(tok);
    brk = 0; quote = 0;
  }
  endSpaced();
  return toks;
}

function markupAt(s, i, st) {
  for (const [m, pts, id] of MARKS)
    if (s[i] === m[0] && s.slice(i, i + m.length).toLowerCase() === m) { feat(st, id, ROLE, pts, i, i + m.length); return; }
}

function feat(st, id, sig, pts, s, e) {
  const had = st.fp[id] || 0;
  if (pts <= had) return;
  st.w[sig] += pts - had;
  st.fp[id] = pts;
  if (pts > st.best) { st.best = pts; st.bs = s; st.be = e; }
}

function scanText(s, depth, full) {
  const st = { w: new Array(SIGNALS.length).fill(0), fp: [], best: 0, bs: 0, be: 0, meta: new Set(), urgent: new Set(),
    capsRun: 0, runs: [], spaced: [] };
  const T = full ? tokenize(s, st) : [];
  for (const m of s.matchAll(/([A-Za-z0-9+/]+)=*/g)) if (m[0].length >= 24 && st.runs.length < 8) st.runs.push([m.index, m.index + m[1].length]);
  const is = (t, w) => !!t && t.w === w;
  const back = (i, k) => { if (k > i) return null; for (let j = 0; j < k; j++) if (T[i - j].brk) return null; return T[i - k]; };
  const imperative = (i) => {
    if (T[i].cap1 && !T[i].caps) return true;
    for (let k = 1; k <= 4; k++) {
      const p = back(i, k);
      if (!p || p.comma || ['and', 'then', 'und', 'y', 'et'].includes(p.w)) return true;
      if (!(p.cls & (C('W_IMPER') | C('W_NEG'))) && p.w !== 'now' && p.w !== 'from') return false;
      if (p.quote) return false;
    }
    return true;
  };
  const said = (i, pts) => {
    if (!T[i].quote && imperative(i)) return pts;
    for (let k = 1; k <= 6; k++) {
      const p = back(i, k);
      if (!p) break;
      if (['asks', 'ask', 'tells', 'requests', 'tries', 'attempts', 'trying', 'wants', 'asked', 'told'].includes(p.w)) return Math.trunc(pts / 5);
    }
    return Math.trunc(pts / 2);
  };
  const negated = (v) => {
    for (let k = 1; k <= 3; k++) {
      const p = back(v, k);
      if (!p || p.comma) return false;
      if (p.cls & C('W_NEG')) return true;
      if (!['to', 'have', 'need', 'required', 'must'].includes(p.w)) return false;
    }
    return false;
  };
  const has = (t, ...names) => !!t && names.some((n) => t.cls & C(n));
  for (let i = 0; i < T.length; i++) {
    const t = T[i], next = T[i + 1] || null, p = back(i, 1), pp = back(i, 2);
    if (!(t.cls & ~(C('W_IMPER') | C('W_ART') | C('W_NEG') | C('W_FILL'))) && !t.caps && !t.colon) continue;
    if ((t.cls & C('W_META')) && s[t.s - 1] !== '@' && !/^\.[A-Za-z]/.test(s.slice(t.e, t.e + 2))) st.meta.add(t.w);
    // override
    if (has(t, 'W_OBJ', 'W_OBJW', 'W_QUAL', 'W_OBJU')) {
      for (let k = 1; k <= 8; k++) {
        const v = back(i, k);
        if (!v) break;
        let strong = has(v, 'W_OVR'), weak = has(v, 'W_OVRW');
        const neg = negated(i - k), n1 = back(i - k, 1);
        if ((has(v, 'W_FOLLOW') && neg) || (v.w === 'following' && n1 && (n1.w === 'stop' || n1.w === 'quit'))) strong = true;
        else if (neg) continue;
        if (!strong && !weak) { if (!has(v, 'W_QUAL', 'W_OBJ', 'W_OBJW', 'W_FILL', 'W_EXM', 'W_OBJU')) break; continue; }
        let obj = 0, objw = 0, qual = 0, every = 0, user = 0, when = 0;
        for (let j = k - 1; j >= 0; j--) {
          const x = T[i - j];
          every |= ['everything', 'anything', 'all'].includes(x.w);
          obj |= has(x, 'W_OBJ'); objw |= has(x, 'W_OBJW'); user |= has(x, 'W_OBJU');
          when |= has(x, 'W_QUAL') && !['any', 'all', 'every', 'your', 'system', 'these', 'those', 'safety', 'default'].includes(x.w);
          qual |= has(x, 'W_QUAL') && x.w !== 'your' && x.w !== 'system' ? 2 : has(x, 'W_QUAL') ? 1 : 0;
        }
        const qualEnd = has(t, 'W_QUAL') && t.w !== 'your' && (!next || next.brk || t.comma || ['and', 'then', 'instead', 'now'].includes(next.w));
        let pts = obj && qual >= 2 ? 70 : obj && qual ? 65 : obj ? 55 : objw && qual >= 2 ? 60 : objw && qual ? 50 : qualEnd ? 55 : 0;
        if (objw && !obj && !qual && (t.w === 'everything' || t.w === 'anything') && next && next.brk) pts = 40;
        if (every && ['told', 'said', 'learned', 'taught'].includes(t.w)) pts = 60;
        if (!pts && user) pts = 40;
        if (!pts) continue;
        if (has(t, 'W_OBJ', 'W_OBJW') && next && !next.brk && !t.comma && HEADS.has(next.w)) break;
        if (!when && next && !next.brk && ['in', 'inside', 'within', 'contained', 'embedded', 'found', 'from', 'that'].includes(next.w)) break;
        if (weak) pts -= 25;
        feat(st, 0, OVERRIDE, said(i - k, pts), v.s, t.e);
        break;
      }
    }
    if (['updated', 'changed', 'replaced', 'revoked', 'suspended', 'lifted', 'disabled', 'removed', 'deactivated', 'overridden'].includes(t.w)) {
      for (let k = 1; k <= 4; k++) {
        const v = back(i, k), q = back(i, k + 1);
        if (!v) break;
        if (has(v, 'W_OBJ') && q && ['your', 'safety', 'previous', 'original', 'system'].includes(q.w)) { feat(st, 0, OVERRIDE, 55, q.s, t.e); break; }
      }
    } else if (['apply', 'matter', 'valid', 'exist'].includes(t.w)) {
      let neg = 0;
      for (let k = 1; k <= 6; k++) {
        const v = back(i, k);
        if (!v) break;
        neg |= has(v, 'W_NEG');
        if (has(v, 'W_OBJ') && neg) { feat(st, 0, OVERRIDE, 60, v.s, t.e); break; }
      }
    }
    // extraction
    if (has(t, 'W_EXO', 'W_EXM')) {
      let mod = t.w === 'above' || t.w === 'verbatim' ? 2 : 0, obj = has(t, 'W_EXO'), art = false;
      for (let k = 1; k <= 8; k++) {
        const v = back(i, k);
        if (!v) break;
        const q = v.w === 'what' || v.w === 'which';
        if (has(v, 'W_EXV') || q) {
          const n1 = back(i - k, 1);
          if (!(has(n1, 'W_NEG') || !obj || art || !(q ? mod & 4 : mod))) feat(st, 1, EXTRACT, said(i - k, 55), v.s, t.e);
          break;
        }
        obj = obj || has(v, 'W_EXO'); art = art || has(v, 'W_ART');
        if (v.w === 'your' || v.w === 'you') mod |= 6; else if (has(v, 'W_EXM')) mod |= 2;
      }
    }
    if (t.w === 'prompt' && p && ['system', 'initial', 'hidden', 'pre', 'original', 'secret', 'developer'].includes(p.w)) feat(st, 2, EXTRACT, 15, p.s, t.e);
    if (t.w === 'verbatim') feat(st, 3, EXTRACT, 15, t.s, t.e);
    const b3 = back(i, 3);
    if (['conversation', 'document', 'prompt', 'chat'].includes(t.w) && is(pp, 'of') && is(b3, 'beginning')) feat(st, 4, EXTRACT, 20, b3.s, t.e);
    if (is(p, 'of') && is(pp, 'beginning') && has(t, 'W_OBJW', 'W_EXO')) feat(st, 4, EXTRACT, 20, pp.s, t.e);
    const told = (t.w === 'told' || t.w === 'given') && p && pp &&
      ((p.w === 'you' && ['were', 'have', 'was'].includes(pp.w)) || (['were', 'been'].includes(p.w) && ['you', "you've"].includes(pp.w)));
    if (st.fp[4] || told)
      for (let k = 3; k <= 8; k++) {
        const v = back(i, k);
        if (!v) break;
        if (v.w === 'what' || has(v, 'W_EXV')) { feat(st, 1, EXTRACT, said(i - k, 55), v.s, t.e); break; }
      }
    // persona, alter egos, no limits
    if (has(t, 'W_INTRO')) feat(st, 5, PERSONA, 15, t.s, t.e);
    if (p && ['act', 'acting', 'respond', 'answer', 'behave', 'roleplay'].includes(p.w) && (t.w === 'as' || t.w === 'like')) feat(st, 6, PERSONA, 15, p.s, t.e);
    if (pp && p && ((pp.w === 'you' && p.w === 'are') || pp.w === "you're" || pp.w === 'youre') && t.w === 'now') feat(st, 7, PERSONA, 15, pp.s, t.e);
    if (is(p, "you're") && t.w === 'now') feat(st, 7, PERSONA, 15, p.s, t.e);
    if (is(pp, 'from') && is(p, 'now') && t.w === 'on') feat(st, 8, PERSONA, 15, pp.s, t.e);
    if (is(p, 'role') && (t.w === 'play' || t.w === 'playing')) feat(st, 5, PERSONA, 15, p.s, t.e);
    if (t.w === 'character' && p && ((pp && ['stay', 'remain', 'staying', 'keep'].includes(pp.w) && p.w === 'in') ||
        ['break', 'breaking', 'broke'].includes(p.w) || (is(pp, 'out') && p.w === 'of'))) feat(st, 9, ALTEREGO, 30, (pp || p).s, t.e);
    if (['responses', 'answers', 'replies', 'outputs', 'paragraphs'].includes(t.w))
      for (let k = 1; k <= 2; k++) { const v = back(i, k); if (v && ['two', 'dual', 'both', '2'].includes(v.w)) { feat(st, 10, ALTEREGO, 30, v.s, t.e); break; } }
    if (t.w === 'mode' && has(p, 'W_MODE')) {
      const pts = ['dan', 'jailbreak', 'god', 'evil'].includes(p.w) || has(p, 'W_UNR') ? 45 : p.w === 'developer' ? 35 : 25;
      feat(st, 11, ALTEREGO, pts, p.s, t.e);
      if ((pp && ['enable', 'enter', 'activate', 'in', 'into', 'switch'].includes(pp.w)) || (next && ['enabled', 'activated', 'on'].includes(next.w)))
        feat(st, 12, ALTEREGO, 10, (pp || p).s, t.e);
    }
    if ((t.caps && ['dan', 'stan', 'dude', 'aim', 'ucar', 'apophis', 'kevin'].includes(t.w)) || t.w === 'betterdan') feat(st, 13, ALTEREGO, 35, t.s, t.e);
    if (is(p, 'stands') && t.w === 'for') feat(st, 14, ALTEREGO, 25, p.s, t.e);
    if (is(p, 'alter') && t.w === 'ego') feat(st, 15, ALTEREGO, 30, p.s, t.e);
    if (is(pp, 'do') && is(p, 'anything') && t.w === 'now') feat(st, 16, ALTEREGO, 50, pp.s, t.e);
    if (p && (p.w === 'evil' || has(p, 'W_UNR')) && (['confidant', 'twin', 'version', 'mode', 'persona', 'alter'].includes(t.w) || has(t, 'W_AI')))
      feat(st, 17, UNRESTRICT, 30, p.s, t.e);
    if (has(t, 'W_UNR') && !has(next, 'W_AI')) feat(st, 18 + (hash(t.w) % 3), UNRESTRICT, 25, t.s, t.e);
    if (has(t, 'W_LIM'))
      for (let k = 1; k <= 3; k++) {
        const v = back(i, k);
        if (!v) break;
        if (has(v, 'W_WITHOUT') || v.w === 'bound' || v.w === 'ignore') { feat(st, 21 + (hash(t.w) % 2), UNRESTRICT, 25, v.s, t.e); break; }
      }
    if (t.w === 'anything' && is(p, 'do') && pp && ['can', 'could', 'will', 'to', 'may'].includes(pp.w)) feat(st, 23, UNRESTRICT, 25, pp.s, t.e);
    if (['refuse', 'refuses', 'decline', 'censor'].includes(t.w) && p && (has(p, 'W_NEG') || ["won't", "can't", 'cannot', "doesn't"].includes(p.w) || has(pp, 'W_NEG')))
      feat(st, 24, UNRESTRICT, 30, p.s, t.e);
    if (is(p, 'longer') && is(pp, 'no') && ['bound', 'restricted', 'limited', 'required', 'constrained', 'subject', 'have', 'need', 'obligated'].includes(t.w))
      feat(st, 25, UNRESTRICT, 40, pp.s, t.e);
    if (['bound', 'restricted', 'limited', 'constrained'].includes(t.w) && is(p, 'not') && is(next, 'by')) feat(st, 26, UNRESTRICT, 30, p.s, t.e);
    if ((t.w === 'policy' || t.w === 'policies') && p && ['content', 'openai', "openai's", 'usage', 'anthropic'].includes(p.w)) feat(st, 27, UNRESTRICT, 20, p.s, t.e);
    if (is(pp, 'matter') && is(p, 'how') && ['immoral', 'unethical', 'illegal', 'dangerous', 'harmful', 'offensive'].includes(t.w)) feat(st, 19, UNRESTRICT, 30, pp.s, t.e);
    if ((t.w === 'free' && p && ['broken', 'break', 'broke'].includes(p.w)) || (t.w === 'from' && is(p, 'freed'))) feat(st, 28, UNRESTRICT, 25, p.s, t.e);
    // addressed to the AI
    if (has(t, 'W_AI') || t.w === 'language') {
      const lead = p && ['the', 'any', 'all'].includes(p.w) ? pp : p;
      const before = lead && lead === pp ? back(i, 3) : pp;
      if (lead && (has(lead, 'W_ADDR') || ((lead.w === 'to' || lead.w === 'for') && before && ['note', 'instructions', 'message', 'notes'].includes(before.w))))
        feat(st, 29, ADDRESS, 25, lead.s, t.e);
      if (has(p, 'W_ART') && is(pp, 'are') && is(back(i, 3), 'you') && is(back(i, 4), 'if')) feat(st, 30, ADDRESS, 30, back(i, 4).s, t.e);
      if (t.colon && has(t, 'W_AI') && t.w !== 'assistant' && (t.brk || (p && p.brk && has(p, 'W_AI')))) feat(st, 31, ADDRESS, 25, t.s, t.e);
    }
    // redirect
    if (has(t, 'W_TASK') && p && (['new', 'real', 'true', 'actual', 'updated'].includes(p.w) || (p.w === 'only' && is(pp, 'your')))) feat(st, 32, REDIRECT, t.colon ? 35 : 20, p.s, t.e);
    if (t.w === 'instead' && (!next || next.brk || has(next, 'W_SAY', 'W_EXV'))) feat(st, 33, REDIRECT, 10, t.s, t.e);
    if (['pwned', 'hacked', 'pwnd'].includes(t.w)) feat(st, 34, REDIRECT, 15, t.s, t.e);
    if (has(t, 'W_SAY') && is(p, 'now') && !(pp && !pp.brk && has(pp, 'W_AI'))) feat(st, 35, REDIRECT, 10, p.s, t.e);
    if (has(t, 'W_SAY', 'W_EXV') && p && ['then', 'and', 'instead'].includes(p.w) && st.fp[0]) feat(st, 44, REDIRECT, 10, p.s, t.e);
    if (p && pp && (p.w === 'user' || (pp.w === 'user' && !p.brk)) &&
        ['password', 'passwords', 'keys', 'credentials', 'emails', 'inbox', 'data', 'secrets', 'tokens', 'history', 'files'].includes(t.w))
      feat(st, 45, REDIRECT, 15, (p.w === 'user' ? p : pp).s, t.e);
    // spoofed roles
    if (t.w === 'system' && next && !next.brk && ['note', 'override', 'message', 'instruction', 'instructions', 'update', 'alert', 'command', 'notice'].includes(next.w) &&
        (next.colon || next.caps)) feat(st, 36, ROLE, 30, t.s, next.e);
    if (['system', 'admin', 'developer', 'root'].includes(t.w) && t.colon && t.brk === 2) feat(st, 37, ROLE, 30, t.s, t.e);
    if (['user', 'human', 'assistant'].includes(t.w) && t.colon && t.brk === 2) feat(st, 38, ROLE, 10, t.s, t.e);
    if (p && ['admin', 'administrator', 'developer'].includes(p.w) && (t.w === 'override' || (t.w === 'note' && t.colon))) feat(st, 36, ROLE, 30, p.s, t.e);
    // capitals
    if (!t.caps) st.capsRun = 0;
    else {
      if (++st.capsRun === 6) feat(st, 39, URGENCY, 10, T[i - 5].s, t.e);
      if (has(t, 'W_URG') && !st.urgent.has(t.w)) {
        st.urgent.add(t.w);
        st.w[URGENCY] += 12;
        if (12 > st.best) { st.best = 12; st.bs = t.s; st.be = t.e; }
      }
    }
  }
  if (depth < 1) {
    for (const [a, b] of st.runs) {
      const d = Buffer.from(s.slice(a, b), 'base64');
      const txt = d.slice(0, 3072).toString('latin1');
      const printable = (txt.match(/[\x20-\x7e\n\t\x80-\xff]/g) || []).length, spaces = (txt.match(/ /g) || []).length;
      if (txt.length >= 12 && printable * 100 >= txt.length * 95 && spaces * 20 >= txt.length) rescan(st, d.toString('utf8'), BASE64, a, b);
    }
    for (const [a, b] of st.spaced) rescan(st, collapse(s.slice(a, b)), SPACED, a, b);
  }
  return st;
}

function collapse(s) {
  const count = {};
  for (let i = 0; i + 2 < s.length; i++) if ((s[i] !== ' ' || s[i + 1] !== ' ') && !/[A-Za-z]/.test(s[i + 1])) count[s[i + 1]] = (count[s[i + 1]] || 0) + 1;
  let sep = ' ';
  for (const k in count) if (count[k] > (count[sep] || 0)) sep = k;
  let out = '', gap = 0, last = '';
  for (const ch of s) {
    if (/[A-Za-z]/.test(ch)) { if (out && (gap > 1 || (gap === 1 && last !== sep))) out += ' '; out += ch; gap = 0; }
    else { gap++; last = ch; }
  }
  return out;
}

function rescan(st, text, sig, a, b) {
  const sub = scanText(text, 1, true);
  let total = 0;
  for (let k = 0; k < SIGNALS.length; k++) total += Math.min(sub.w[k], CAPS[k]);
  if (total < 20 || total + 10 <= st.w[sig]) return;
  st.w[sig] = total + 10;
  if (total + 10 > st.best) { st.best = total + 10; st.bs = a; st.be = b; }
}

// 2: the word pass is needed (hidden or spaced-out letters), 1: decoding base64 runs is enough
function worthScanning(s) {
  if (/[a-z][\u0400-\u04ff]|[\u0400-\u04ff][a-z]|[\uff21-\uff3a\uff41-\uff5a\u200b-\u200d\u2060\ufeff\u00ad]/i.test(s) ||
      /(?:^|[^A-Za-z])[A-Za-z]([ -])[A-Za-z]\1[A-Za-z]\1[A-Za-z]\1/.test(s)) return 2;
  return /[A-Za-z0-9+/=]{23}/.test(s) ? 1 : 0;
}

function injScan(s, lower) {
  lower = lower || s.toLowerCase();
  const how = KEYWORDS.some((k) => lower.includes(k)) ? 2 : worthScanning(s);
  if (!how) return { score: 0, signals: [], start: 0, end: 0 };
  const st = scanText(s, 0, how === 2);
  let total = 0;
  const signals = [];
  for (let k = 0; k < SIGNALS.length; k++) { const w = Math.min(st.w[k], CAPS[k]); if (w > 0) { signals.push(SIGNALS[k]); total += w; } }
  if (st.w[PERSONA] && (st.w[UNRESTRICT] || st.fp[11] || st.fp[13] || st.fp[14] || st.fp[15] || st.fp[16])) total += 15;
  const meta = st.meta.size;
  total = Math.trunc(total * (meta >= 4 ? 30 : meta === 3 ? 40 : meta === 2 ? 55 : meta === 1 ? 80 : 100) / 100);
  return { score: Math.min(total, 100), signals, start: st.bs, end: st.be };
}

module.exports = { injScan, KEYWORDS, VOCAB };
