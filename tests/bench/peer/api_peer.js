// The API bench's peer: one plain Node.js http server (no npm packages),
// keep-alive, that checks the same Bearer token in constant time and
// answers each path with bytes fixed in advance (lg-sync serve's own
// answers to the same URLs, captured before the load). No query work at
// all: the rate of an HTTP server on this machine that does nothing but
// HTTP. Usage: node api_peer.js PORTFILE TOKENFILE DIR  (DIR/<n>.url holds
// a path, DIR/<n>.body its answer).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const [portFile, tokenFile, dir] = process.argv.slice(2);
const want = Buffer.from('Bearer ' + fs.readFileSync(tokenFile, 'utf8').trim());
const answers = new Map();
for (const f of fs.readdirSync(dir)) {
  if (!f.endsWith('.url')) continue;
  const url = fs.readFileSync(path.join(dir, f), 'utf8').trim();
  answers.set(url, fs.readFileSync(path.join(dir, f.replace(/\.url$/, '.body'))));
}
const denied = Buffer.from('{"success":false,"error":{"code":"unauthorized","message":"missing or wrong token"}}');

const server = http.createServer((req, res) => {
  const got = Buffer.from(req.headers.authorization || '');
  const ok = got.length === want.length && crypto.timingSafeEqual(got, want);
  const body = ok ? answers.get(req.url) : denied;
  const status = !ok ? 401 : body ? 200 : 404;
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': body ? body.length : 0});
  res.end(body);
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
