// The API contract, checked live through nginx (tests/integration/t_api.sh
// starts the panel and passes what this needs in the environment):
//
//   - the served /api/v1/openapi.json validates as OpenAPI 3.1 and lists
//     every route of `aapanel routes --json`;
//   - every GET operation answers, as admin, the 2xx status it documents
//     (200 with JSON that validates against its response schema; 204 for a
//     probe such as nginx's auth_request); every error answer (no
//     credentials, a bad field, a missing item, a wrong method) against the
//     Error schema;
//   - every POST operation has a scenario here whose answer validates too,
//     so a route added without one fails this test (monitoring: alert
//     channels and rules made, changed, tested and deleted; the alert
//     history walked by next; websites made, changed, refused by nginx -t,
//     disabled, enabled, re-applied, walked by next and deleted; certificates
//     uploaded, refused, issued and renewed with ACME against pebble, removed;
//     firewall rules and block-list entries made, applied, confirmed, removed);
//   - no answer carries a member that only a template uses;
//   - a list of 1,000+ users is walked by following next while users are
//     being added: no duplicates, none of the first ones missing; the audit
//     log likewise, newest first;
//   - a create retried with the same Idempotency-Key makes one resource.
//
// Output: one "  ok   ..." or "  FAIL ..." line per check (counted by the
// shell test); exit 1 when any failed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const env = (k) => {
  const v = process.env[k];
  if (v === undefined || v === '') throw new Error(`${k} is not set`);
  return v;
};
const ORIGIN = env('ORIGIN');           // http://127.0.0.1:PORT
const TOKEN = env('TOKEN');             // an admin token of user ADMIN
const ADMIN = env('ADMIN');
const PASSWORD = env('PASSWORD');       // ADMIN's password
const ROUTES = JSON.parse(fs.readFileSync(env('ROUTES'), 'utf8'));
const PRE_MAX_ID = Number(env('PRE_MAX_ID')); // users made before the walk: ids 1..PRE_MAX_ID
const PRE_COUNT = Number(env('PRE_COUNT'));
const API = `${ORIGIN}/api/v1`;

let passed = 0, failed = 0;
const ok = (name) => { passed++; console.log(`  ok   ${name}`); };
const bad = (name, why) => { failed++; console.log(`  FAIL ${name}${why ? `: ${why}` : ''}`); };
const check = (name, cond, why) => (cond ? ok(name) : bad(name, why));

async function call(method, path, { body, token = TOKEN, headers = {}, json = true } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(`${API}${path}`, { method, headers: h, body: payload, redirect: 'manual' });
  } catch (e) {
    // A request on a kept-alive connection an old nginx worker closed as a reload retired it
    // (a site or certificate change reloads nginx), before any answer: asked again once, on a
    // new connection, as browsers do for a reused connection closed without an answer (nginx
    // closes only idle connections: the request was not taken). The close may reach undici as a
    // socket error or as a reset of the read (ECONNRESET).
    if (!e.cause || !['UND_ERR_SOCKET', 'ECONNRESET'].includes(e.cause.code)) throw e;
    r = await fetch(`${API}${path}`, { method, headers: h, body: payload, redirect: 'manual' });
  }
  const text = await r.text();
  let data = null;
  if (json && text.length && (r.headers.get('content-type') || '').startsWith('application/json')) {
    try { data = JSON.parse(text); } catch { data = undefined; }
  }
  return { status: r.status, headers: r.headers, text, data };
}

// ---------------------------------------------------------------- the document
const served = await call('GET', '/openapi.json');
check('GET /api/v1/openapi.json answers 200 application/json', served.status === 200 &&
  (served.headers.get('content-type') || '').startsWith('application/json'), `status ${served.status}`);
const doc = served.data;
try {
  await SwaggerParser.validate(structuredClone(doc));
  ok('the served document validates as OpenAPI 3.1 (@apidevtools/swagger-parser)');
} catch (e) {
  bad('the served document validates as OpenAPI 3.1 (@apidevtools/swagger-parser)', e.message);
}
check('it says openapi 3.1.0', doc.openapi === '3.1.0');
const anon = await call('GET', '/openapi.json', { token: null });
check('the document needs a signed-in user or token (401 without)', anon.status === 401, `status ${anon.status}`);

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('int64', true);
ajv.addFormat('password', true);
ajv.addSchema({ $id: 'doc', components: doc.components });
const validators = new Map();
function validatorFor(schema) {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    const s = schema.$ref ? { $ref: `doc${schema.$ref}` } : schema;
    validators.set(key, ajv.compile(s));
  }
  return validators.get(key);
}
const errorSchema = { $ref: '#/components/schemas/Error' };
function valid(schema, data) {
  const v = validatorFor(schema);
  return v(data) ? null : ajv.errorsText(v.errors, { dataVar: 'answer' });
}

// ---------------------------------------------------------------- every route is there
const ops = [];
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [m, op] of Object.entries(item)) {
    if (['get', 'post', 'put', 'patch', 'delete'].includes(m))
      ops.push({ path, method: m.toUpperCase(), op, browser: (op.tags || []).includes('browser') });
  }
}
let missing = [];
for (const r of ROUTES) {
  for (const m of r.methods) {
    if (m === 'HEAD') continue;
    if (!doc.paths[r.pattern] || !doc.paths[r.pattern][m.toLowerCase()]) missing.push(`${m} ${r.pattern}`);
  }
}
check(`every route of the table is in the document (${ROUTES.length} routes, ${ops.length} operations)`,
  missing.length === 0, missing.join(', '));
const extra = ops.filter((o) => !ROUTES.some((r) => r.pattern === o.path && r.methods.includes(o.method)));
check('the document has no operation the table lacks', extra.length === 0,
  extra.map((o) => `${o.method} ${o.path}`).join(', '));
check('every operation has a summary, an operationId and responses',
  ops.every((o) => o.op.summary && o.op.operationId && o.op.responses),
  ops.filter((o) => !(o.op.summary && o.op.operationId)).map((o) => o.path).join(', '));
const protectedOps = ops.filter((o) => !(Array.isArray(o.op.security) && o.op.security.length === 0));
check('every non-public operation names its permission, roles and token scopes',
  protectedOps.every((o) => o.op['x-aapanel-permission'] && o.op['x-aapanel-roles'] &&
    (o.browser || o.op['x-aapanel-token-scopes'])));

// ---------------------------------------------------------------- answers collected for the template check
const answers = [];
const VIEW_ONLY = ['role_options', 'role_label', 'create_form', 'password_min', 'row_error', 'row_alert',
  'self', 'is_ok', 'is_denied', 'is_failed', 'filter', 'csv_query', 'has_entries', 'revoke_base',
  'token_form', 'qr_svg', 'secret_grouped', 'can_write', 'uptime_days', 'uptime_hm', 'first', 'paged',
  'csrf', 'nav', 'langs', 'app', 'dir', 'title', 'flash', 'errors', 'download', 'empty', 'has_items',
  // monitoring's pages: formatted values, charts, links, form state (the dashboard's "current"
  // is checked below: sessions have a member of that name)
  'charts', 'ranges', 'stream', 'stream_url', 'sort_links', 'aria_sort', 'cpu_text', 'rss_text',
  'mem_meter', 'meter', 'metric_label', 'kind_label', 'threshold_text', 'rule_form', 'channel_form', 'has_rules',
  'has_channels', 'has_events', 'smtp', 'value_text', 'peak_text', 'tested', 'test_ok', 'test_failed', 'firing',
  // websites: labels, the forms, the helper's state
  'state_label', 'is_php', 'is_proxy', 'probe_good', 'probe_bad', 'probe_label', 'helper_down', 'edit_form',
  'kinds', 'php_versions', 'no_php'];
function viewOnlyIn(v, at = '') {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) { const f = viewOnlyIn(v[i], `${at}[${i}]`); if (f) return f; }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (VIEW_ONLY.includes(k)) return `${at}.${k}`;
      const f = viewOnlyIn(x, `${at}.${k}`);
      if (f) return f;
    }
  }
  return null;
}

function successSchema(op, status) {
  const r = op.responses[String(status)];
  return r && r.content && r.content['application/json'] ? r.content['application/json'].schema : null;
}

// Check one answer: the status is one the operation documents, the body matches.
function checkAnswer(name, o, res, want) {
  if (res.status !== want) {
    bad(name, `status ${res.status}, wanted ${want}: ${res.text.slice(0, 300)}`);
    return false;
  }
  if (!o.op.responses[String(want)]) {
    bad(name, `status ${want} is not documented`);
    return false;
  }
  const schema = successSchema(o.op, want);
  if (schema === null) {
    check(name, res.text.length === 0 || !(o.op.responses[String(want)].content || {})['application/json'],
      'a body where none is documented');
    return true;
  }
  answers.push({ name, data: res.data });
  const why = res.data == null ? 'not JSON' : valid(schema, res.data);
  check(name, why === null, why);
  return why === null;
}

// ---------------------------------------------------------------- path parameters from the lists
async function idFor(path) {
  // /users/{id}/role → an id from GET /users (its items), the first one
  const parent = path.slice(0, path.indexOf('/{'));
  const res = await call('GET', parent);
  // /services/{name}: a unit systemd knows, else a configured name (the page then says why not)
  if (res.data && res.data.configured) return res.data.units.length ? res.data.units[0].name : res.data.configured.find((n) => !n.includes('*'));
  const items = res.data && (res.data.items || res.data.sessions || res.data.tokens);
  return items && items.length ? (items[0].id ?? items[0].name) : null; // /files/roots/{root}: a name
}

// ---------------------------------------------------------------- every GET
const gets = ops.filter((o) => o.method === 'GET' && !o.browser);
for (const o of gets) {
  let path = o.path;
  if (path.includes('{job}')) continue; // a database's job: made and read in the databases block below
  if (path === '/backups/snapshots/{snapshot}/file') continue; // downloaded in the backups block below
  // A path whose first parameter is an enum (/logs/{which}): its first choice, no list to read.
  const first = (path.match(/\{([a-z_]+)\}/) || [])[1];
  const fp = first && (o.op.parameters || []).find((x) => x.in === 'path' && x.name === first);
  if (fp && fp.schema && fp.schema.enum) path = path.replace(`{${first}}`, fp.schema.enum[0]);
  if (path.includes('{')) {
    const id = await idFor(path);
    if (id == null) { bad(`GET ${o.path}: an item to read`, 'no item found in the list before it'); continue; }
    path = path.replace(/\{[a-z_]+\}/, String(id));
    // A second path parameter (/sites/{id}/logs/{which}): its first choice.
    path = path.replace(/\{([a-z_]+)\}/g, (m, name) => {
      const p = (o.op.parameters || []).find((x) => x.in === 'path' && x.name === name);
      return p && p.schema && p.schema.enum ? p.schema.enum[0] : m;
    });
  }
  // Required query fields get a valid value (their minimum, first choice, shortest text).
  const q = (o.op.parameters || []).filter((p) => p.in === 'query' && p.required).map((p) => {
    const s = p.schema;
    const v = s.enum ? s.enum[0] : s.type === 'integer' ? (s.minimum ?? 0) : s.type === 'boolean' ? 'false'
      : 'a'.repeat(s.minLength || 1);
    return `${p.name}=${encodeURIComponent(v)}`;
  });
  if (q.length) path += `?${q.join('&')}`;
  const res = await call('GET', path);
  // The journal's follow check: only with log.file = "" (t_logs_journal.sh follows it); here
  // log.file is a file, and the answer says so: 404 naming which.
  if (o.path === '/logs/{which}/stream') {
    check(`GET ${o.path}: 404 naming which (log.file is a file here)`, res.status === 404 && res.data &&
      res.data.error && res.data.error.field === 'which', `status ${res.status}`);
    continue;
  }
  // The success it documents: 200 with its resource, or 204 (a probe: nginx's auth_request).
  const want = Number(Object.keys(o.op.responses).find((st) => /^2\d\d$/.test(st)));
  const r2 = o.op.responses[String(want)];
  const media = r2 && r2.content ? Object.keys(r2.content)[0] : null;
  if (media && media !== 'application/json') {
    check(`GET ${o.path}: ${want} ${media}`, res.status === want &&
      (res.headers.get('content-type') || '').startsWith(media), `status ${res.status}`);
    continue;
  }
  if (o.path === '/openapi.json') continue; // validated above
  checkAnswer(media ? `GET ${o.path}: ${want} and the answer matches ${JSON.stringify(successSchema(o.op, want))}`
    : `GET ${o.path}: ${want} without a body, as documented`, o, res, want);
}

// ---------------------------------------------------------------- errors
function badValue(schema) {
  if (schema.enum) return 'not-one-of-them';
  if (schema.type === 'integer') return schema.maximum !== undefined ? String(schema.maximum + 1) : 'x1';
  if (schema.type === 'boolean') return 'maybe';
  if (schema.maxLength !== undefined) return 'x'.repeat(schema.maxLength + 1);
  if (schema.pattern) return '\u0001';
  return null;
}
for (const o of ops) {
  if (o.browser) {
    const res = await call(o.method, o.path.replace(/\{[a-z_]+\}/g, '1'));
    check(`${o.method} ${o.path} (a browser page) is not part of the API: 404 Error`,
      res.status === 404 && valid(errorSchema, res.data) === null, `status ${res.status}`);
    continue;
  }
  const concrete = o.path.replace(/\{([a-z_]+)\}/g, (m, name) => {
    const p = (o.op.parameters || []).find((x) => x.in === 'path' && x.name === name);
    if (o.path.startsWith('/files/roots/') && name === 'root') return 'www'; // files.roots in t_api.sh
    return p && p.schema && p.schema.enum ? p.schema.enum[0] : '1';
  });
  const isPublic = Array.isArray(o.op.security) && o.op.security.length === 0;
  if (!isPublic) {
    const res = await call(o.method, concrete, { token: null, body: o.method === 'POST' ? {} : undefined });
    check(`${o.method} ${o.path} without credentials: 401 Error`,
      res.status === 401 && valid(errorSchema, res.data) === null &&
      /^Bearer/.test(res.headers.get('www-authenticate') || ''), `status ${res.status} ${res.text.slice(0, 200)}`);
  }
  if (o.path.includes('{')) {
    const res = await call(o.method, o.path.replace(/\{[a-z_]+\}/g, '0'), { body: o.method === 'POST' ? {} : undefined });
    check(`${o.method} ${o.path} with {id} 0: 404 Error`, res.status === 404 && valid(errorSchema, res.data) === null,
      `status ${res.status}`);
  }
  const params = (o.op.parameters || []).filter((p) => p.in === 'query');
  const body = o.op.requestBody && o.op.requestBody.content['application/json'] &&
    o.op.requestBody.content['application/json'].schema;
  if (o.method === 'GET' && params.length) {
    const p = params.find((x) => badValue(x.schema) !== null);
    if (p) {
      const res = await call('GET', `${concrete}?${p.name}=${encodeURIComponent(badValue(p.schema))}`);
      check(`GET ${o.path}?${p.name}=<bad>: 400 Error naming ${p.name}`, res.status === 400 &&
        valid(errorSchema, res.data) === null && res.data.error.field === p.name,
        `status ${res.status} ${res.text.slice(0, 200)}`);
    }
  }
  if (o.method === 'POST' && body && body.required && body.required.length && !o.path.includes('{')) {
    const res = await call('POST', concrete, { body: {} });
    check(`POST ${o.path} without its required fields: 400 Error naming one`, res.status === 400 &&
      valid(errorSchema, res.data) === null && body.required.includes(res.data.error.field),
      `status ${res.status} ${res.text.slice(0, 200)}`);
  }
  const wrong = o.method === 'GET' ? 'DELETE' : 'PUT';
  const res = await call(wrong, concrete);
  check(`${wrong} ${o.path}: 405 Error with Allow`, res.status === 405 && valid(errorSchema, res.data) === null &&
    (res.headers.get('allow') || '').includes(o.method), `status ${res.status}`);
}
{
  const res = await call('GET', '/no/such/thing');
  check('an unknown path: 404 Error', res.status === 404 && valid(errorSchema, res.data) === null);
  const r2 = await fetch(`${API}/users`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`,
    'Content-Type': 'application/json' }, body: '{"username":' });
  const d = await r2.json();
  check('malformed JSON: 400 Error naming the body', r2.status === 400 && valid(errorSchema, d) === null &&
    d.error.field === 'body');
  // Above nginx's client_max_body_size: nginx answers, with the same document.
  const r3 = await fetch(`${API}/users`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`,
    'Content-Type': 'application/json' }, body: '"' + 'x'.repeat(3 * 1024 * 1024) + '"' });
  const d3 = await r3.json().catch(() => null);
  check('a body nginx refuses (413) is the Error document too', r3.status === 413 &&
    valid(errorSchema, d3) === null && d3.error.code === 'too_large', `status ${r3.status}`);
}

// ---------------------------------------------------------------- every POST, by scenario
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = crypto.createHmac('sha1', key).update(msg).digest();
  const off = h[h.length - 1] & 0xf;
  const n = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(n % 1e6).padStart(6, '0');
}

const op = (m, p) => ops.find((o) => o.method === m && o.path === p);
const done = new Set();
async function post(path, concrete, body, want, headers) {
  const o = op('POST', path);
  if (!o) { bad(`POST ${path} is in the document`); return null; }
  done.add(path);
  const res = await call('POST', concrete, { body, headers });
  checkAnswer(`POST ${path}: ${want} and the answer matches`, o, res, want);
  return res;
}
const NEWPW = 'another horse battery staple';
const u = await post('/users', '/users', { username: 'contract-user', role: 'viewer', password: NEWPW }, 201);
const uid = u && u.data ? u.data.id : 0;
await post('/users/{id}/role', `/users/${uid}/role`, { role: 'operator' }, 200);
await post('/users/{id}/disable', `/users/${uid}/disable`, {}, 200);
await post('/users/{id}/enable', `/users/${uid}/enable`, {}, 200);
await post('/users/{id}/password', `/users/${uid}/password`, { password: NEWPW + '!' }, 200);
const t = await post('/account/tokens', '/account/tokens', { name: 'contract', scope: 'read', expires_days: 30 }, 201);
check('a new token is answered once, with its secret', t && t.data && /^apn_[0-9a-f]{64}$/.test(t.data.token));
await post('/account/tokens/{id}/revoke', `/account/tokens/${t && t.data ? t.data.id : 0}/revoke`, {}, 204);
const t2 = await call('POST', '/account/tokens', { body: { name: 'contract2', scope: 'read' } });
await post('/tokens/{id}/revoke', `/tokens/${t2.data ? t2.data.id : 0}/revoke`, {}, 204);
await post('/lang', '/lang', { lang: 'ar' }, 200);
// The panel's address, entrance, access and timeouts, as they are (t_settings.sh moves them for
// real); the lock-out guard answers the Error document naming the field. Before the two-factor
// scenario: workers cache security.require_2fa for up to 10 s after it is turned off again.
{
  const s = await post('/settings/listen', '/settings/listen', {}, 200);
  check('GET-equivalent settings name the port nginx serves', s && s.data && Number.isInteger(s.data.port));
  await post('/settings/entrance', '/settings/entrance', { base_path: '/' }, 200);
  await post('/settings/access', '/settings/access', {}, 200);
  await post('/settings/sessions', '/settings/sessions', {}, 200);
  const lock = await call('POST', '/settings/access', { body: { allow: '192.0.2.0/24' } });
  check('an allow list without the caller\'s own address: 409 naming allow',
    lock.status === 409 && lock.data && lock.data.error && lock.data.error.field === 'allow');
}
{
  const acct = await call('GET', '/account');
  const s = acct.data && acct.data.sessions.find((x) => !x.current);
  check('the shell signed in a browser session to revoke', !!s);
  await post('/account/sessions/{id}/revoke', `/account/sessions/${s ? s.id : 0}/revoke`, {}, 204);
}
await post('/account/sessions/revoke-others', '/account/sessions/revoke-others', {}, 200);
let twoFactorOff = async () => bad('POST /account/2fa/disable: turning two-factor on first');
{
  const tf = await call('GET', '/account/2fa');
  const secret = tf.data && tf.data.secret;
  check('GET /account/2fa gives the secret to enrol with', typeof secret === 'string' && secret.length >= 16);
  const en = await post('/account/2fa/enable', '/account/2fa/enable', { code: totp(secret || 'A') }, 200);
  check('turning two-factor on answers ten recovery codes', en && en.data && en.data.codes && en.data.codes.length === 10);
  const rc = await post('/account/2fa/recovery', '/account/2fa/recovery', { password: PASSWORD }, 200);
  await post('/settings/security', '/settings/security', { require_2fa: true }, 200);
  await post('/settings/security', '/settings/security', { require_2fa: false }, 200);
  // Every worker reads the requirement again within 10 s (src/web/gate.c, SETTINGS_REFRESH_S):
  // until then one may still hold "required", so the admin keeps two-factor on and turns it off
  // at the end of the test, once every worker has let go of it.
  const code = rc && rc.data && rc.data.codes ? rc.data.codes[0] : '000000';
  const settled = Date.now() + 10_500;
  twoFactorOff = async () => {
    await new Promise((res) => setTimeout(res, Math.max(0, settled - Date.now())));
    await post('/account/2fa/disable', '/account/2fa/disable', { password: PASSWORD, code }, 204);
  };
}
await post('/account/password', '/account/password', { current: PASSWORD, password: NEWPW, confirm: NEWPW }, 200);
await call('POST', '/account/password', { body: { current: NEWPW, password: PASSWORD, confirm: PASSWORD } });

// ---------------------------------------------------------------- monitoring
{
  // The dashboard is its resource only: none of the page's formatted values, charts or links.
  const dash = await call('GET', '/');
  check('GET / answers host, pool, range and now, nothing of the page (current, charts, ranges, stream)',
    dash.status === 200 && JSON.stringify(Object.keys(dash.data).sort()) === '["host","now","pool","range"]' &&
    JSON.stringify(Object.keys(dash.data.host).sort()) === '["cpus","hostname","kernel"]' &&
    dash.data.now !== null && /Z$/.test(dash.data.now.time), dash.text.slice(0, 300));
  // The server now and its history: times RFC 3339, points {at, values} with a value per column.
  const sys = await call('GET', '/system');
  check('GET /system: time is RFC 3339 UTC, sizes integers', sys.status === 200 &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(sys.data.time) && Number.isInteger(sys.data.memory.total) &&
    sys.data.memory.total > 0, sys.text.slice(0, 200));
  const m = await call('GET', '/metrics?range=1h&series=cpu,mem_used,fs:/');
  const fsSeries = m.data && m.data.series && m.data.series[2];
  check('GET /metrics: from and to RFC 3339, series in the order asked, each point {at, values} with a value per column',
    m.status === 200 && /Z$/.test(m.data.from) && /Z$/.test(m.data.to) &&
    m.data.series.map((x) => x.name).join() === 'cpu,mem_used,fs:/' &&
    JSON.stringify(fsSeries.columns) === '["used","total","inodes_used","inodes_total"]' &&
    m.data.series.every((x) => x.points.every((pt) => /Z$/.test(pt.at) && pt.values.length === x.columns.length)),
    m.text.slice(0, 300));
  check('... with points recorded by the sampler', m.data && m.data.series[0].points.length > 0);
  checkAnswer('GET /metrics with a device series: 200 and the answer matches', op('GET', '/metrics'), m, 200);
  const pr = await call('GET', '/monitor/processes?q=aapanel&sort=memory&order=desc');
  checkAnswer('GET /monitor/processes searched and sorted: 200 and the answer matches',
    op('GET', '/monitor/processes'), pr, 200);
  check(`... finds the panel's own processes (${pr.data ? pr.data.matched : '?'} of ${pr.data ? pr.data.total : '?'}), largest first`,
    pr.data && pr.data.matched > 0 && pr.data.processes.length === pr.data.matched &&
    pr.data.processes.every((x, i, a) => i === 0 || a[i - 1].rss >= x.rss));
  const auth = await call('GET', '/events/auth');
  check('GET /events/auth: 204 without a body (what nginx asks before the live stream)',
    auth.status === 204 && auth.text === '');

  // The alert history (rows made by t_api.sh), newest first by key.
  const h = await walk('/api/v1/alerts/history?limit=2', 'id');
  check(`walking /alerts/history by next (${h.pages} pages, ${h.seen.length} episodes): newest first, no duplicates`,
    h.pages >= 3 && h.seen.length >= 5 && new Set(h.seen).size === h.seen.length &&
    h.seen.every((v, i) => i === 0 || v < h.seen[i - 1]));
  const h1 = await call('GET', '/alerts/history?limit=1');
  checkAnswer('GET /alerts/history?limit=1: 200 and the answer matches', op('GET', '/alerts/history'), h1, 200);
  check('... one episode and a next link with its cursor', h1.data.items.length === 1 &&
    /\/api\/v1\/alerts\/history\?limit=1&cursor=\d+$/.test(h1.data.next), h1.data.next);

  // Channels and rules: made, changed, tested, deleted.
  const SECRET = 'a webhook secret of the contract test';
  const mail = await post('/alerts/channels', '/alerts/channels',
    { name: 'contract-mail', kind: 'email', email: 'ops@example.com' }, 201);
  const hook = await call('POST', '/alerts/channels', { body: { name: 'contract-hook', kind: 'webhook',
    url: 'https://hooks.example/T0K3N/alert?sig=1', secret: SECRET } });
  check('a webhook channel answers 201 with its URL cut to the host, never its secret',
    hook.status === 201 && hook.data.target === 'https://hooks.example/…' && !('secret' in hook.data) &&
    !hook.text.includes('T0K3N') && !hook.text.includes(SECRET) && hook.data.last_test === null, hook.text);
  const cid = mail && mail.data ? mail.data.id : 0;
  const key = crypto.randomUUID();
  const rb = { metric: 'disk_space', target: '/', threshold: '99.5', duration: 5, channel: cid };
  const rule = await post('/alerts/rules', '/alerts/rules', rb, 201, { 'Idempotency-Key': key });
  const again = await call('POST', '/alerts/rules', { body: rb, headers: { 'Idempotency-Key': key } });
  const rid = rule && rule.data ? rule.data.id : 0;
  check('the rule answers what was asked (threshold a number, duration in minutes, its channel, on)',
    rule && rule.data && rule.data.metric === 'disk_space' && rule.data.target === '/' &&
    rule.data.threshold === 99.5 && rule.data.duration === 5 && rule.data.channel === cid && rule.data.enabled === true);
  check('a rule retried with its Idempotency-Key answers the same rule, marked replayed',
    again.status === 201 && again.data && again.data.id === rid && again.headers.get('idempotent-replayed') === 'true');
  const every = await post('/alerts/rules', '/alerts/rules', { metric: 'cpu', threshold: 95 }, 201);
  check('a rule without a target or a channel has them null (each, every channel)',
    every && every.data && every.data.target === null && every.data.channel === null && every.data.duration === 0);
  const off = await post('/alerts/rules/{id}/disable', `/alerts/rules/${rid}/disable`, {}, 200);
  check('disabling answers the rule, off', off && off.data && off.data.id === rid && off.data.enabled === false);
  const on = await post('/alerts/rules/{id}/enable', `/alerts/rules/${rid}/enable`, {}, 200);
  check('enabling answers the rule, on', on && on.data && on.data.id === rid && on.data.enabled === true);
  const al = await call('GET', '/alerts');
  checkAnswer('GET /alerts with rules and channels: 200 and the answer matches', op('GET', '/alerts'), al, 200);
  check('GET /alerts lists the rules and the channels, no secret in it', al.data &&
    al.data.rules.filter((r) => r.id === rid || r.id === every.data.id).length === 2 &&
    al.data.channels.filter((c) => c.id === cid || c.id === hook.data.id).length === 2 && !al.text.includes(SECRET));
  await post('/alerts/channels/{id}/test', `/alerts/channels/${cid}/test`, {}, 204);
  await post('/alerts/rules/{id}/delete', `/alerts/rules/${rid}/delete`, {}, 204);
  await post('/alerts/channels/{id}/delete', `/alerts/channels/${hook.data ? hook.data.id : 0}/delete`, {}, 204);
  const gone = await call('GET', '/alerts');
  check('deleted: the rule and the channel are gone, the rest stays', gone.data &&
    !gone.data.rules.some((r) => r.id === rid) && !gone.data.channels.some((c) => c.id === hook.data.id) &&
    gone.data.rules.some((r) => r.id === every.data.id) && gone.data.channels.some((c) => c.id === cid));
  const r404 = await call('POST', `/alerts/rules/${rid}/enable`);
  check('a deleted rule is a 404 Error', r404.status === 404 && valid(errorSchema, r404.data) === null);
}

// ---------------------------------------------------------------- websites
// The helper and the test's nginx run (t_api.sh starts them, sites in a sandbox): a static site
// and a reverse proxy are made, changed, refused by nginx -t, disabled, enabled, re-applied,
// read with their vhost, walked by next and deleted.
{
  const key = crypto.randomUUID();
  const body = { domain: 'contract.test', kind: 'static', aliases: 'www.contract.test' };
  const made = await post('/sites', '/sites', body, 201, { 'Idempotency-Key': key });
  const s = made && made.data;
  const sid = s ? s.id : 0;
  check('a new site answers what was asked: revision 1, served (the probe), none of the other kinds\' members',
    s && s.domain === 'contract.test' && s.kind === 'static' && s.aliases === 'www.contract.test' &&
    s.root === 'public' && s.index === null && s.php === null && s.upstream === null && s.error_404 === null &&
    s.https_redirect === false && s.enabled === true && s.revision === 1 && s.served === true &&
    /Z$/.test(s.created) && /Z$/.test(s.probed) && s.cert_expiry === null, made && made.text.slice(0, 300));
  const again = await call('POST', '/sites', { body, headers: { 'Idempotency-Key': key } });
  check('a site create retried with its Idempotency-Key answers the same site, marked replayed',
    again.status === 201 && again.data && again.data.id === sid && again.headers.get('idempotent-replayed') === 'true',
    `${again.status} ${again.text.slice(0, 200)}`);
  const dup = await call('POST', '/sites', { body });
  check('the same domain without the key: 409 exists naming domain', dup.status === 409 &&
    valid(errorSchema, dup.data) === null && dup.data.error.code === 'exists' && dup.data.error.field === 'domain',
    `${dup.status} ${dup.text.slice(0, 200)}`);
  const outside = await call('POST', '/sites', { body: { domain: 'outside.contract.test', kind: 'static', root: '../etc' } });
  check('a document root outside the site\'s home: 400 naming root', outside.status === 400 &&
    valid(errorSchema, outside.data) === null && outside.data.error.field === 'root', `${outside.status}`);
  const ch = await post('/sites/{id}', `/sites/${sid}`,
    { kind: 'static', aliases: 'www.contract.test', index: 'home.html', error_404: '/404.html' }, 200);
  check('a change answers the site as it is now: revision 2, served, what was set',
    ch && ch.data && ch.data.id === sid && ch.data.revision === 2 && ch.data.index === 'home.html' &&
    ch.data.error_404 === '/404.html' && ch.data.served === true);
  const refused = await call('POST', `/sites/${sid}`, { body: { kind: 'proxy', upstream: 'http://no-such-host.invalid' } });
  check('a change nginx -t refuses: 422 failed with nginx\'s own message', refused.status === 422 &&
    valid(errorSchema, refused.data) === null && refused.data.error.code === 'failed' &&
    /host not found in upstream/.test(refused.data.error.reason), `${refused.status} ${refused.text.slice(0, 300)}`);
  const off = await post('/sites/{id}/disable', `/sites/${sid}/disable`, {}, 200);
  check('disabling answers the site, disabled, its "site disabled" page served (revision 3: the refused change made none)',
    off && off.data && off.data.enabled === false && off.data.served === true && off.data.revision === 3);
  const on = await post('/sites/{id}/enable', `/sites/${sid}/enable`, {}, 200);
  check('enabling answers the site, enabled and served', on && on.data && on.data.enabled === true && on.data.served === true);
  const re = await post('/sites/{id}/reapply', `/sites/${sid}/reapply`, {}, 200);
  check('re-applying answers the site at its next revision', re && re.data && re.data.revision === 5 && re.data.served === true);
  const det = await call('GET', `/sites/${sid}`);
  checkAnswer('GET /sites/{id} of the new site: 200 and the answer matches', op('GET', '/sites/{id}'), det, 200);
  check('... the site, its vhost as nginx reads it, no drift, no diff, no pool (not PHP), the answer of GET /',
    det.data && det.data.site.id === sid && det.data.vhost.exists === true &&
    det.data.vhost.content.includes('contract.test') && det.data.drift === false && det.data.diff === null &&
    det.data.pool === null && Number.isInteger(det.data.root_status), det.text.slice(0, 300));
  const px = await post('/sites', '/sites', { domain: 'proxy.contract.test', kind: 'proxy', upstream: 'http://127.0.0.1:9' }, 201);
  check('a reverse proxy answers its upstream, no PHP version', px && px.data && px.data.kind === 'proxy' &&
    px.data.upstream === 'http://127.0.0.1:9' && px.data.php === null);
  const w = await walk('/api/v1/sites?limit=1', 'id');
  check(`walking /sites by next (${w.pages} pages of 1, ${w.seen.length} sites): oldest first, each once, the new ones there`,
    w.pages >= 3 && new Set(w.seen).size === w.seen.length && w.seen.every((v, i) => i === 0 || v > w.seen[i - 1]) &&
    w.seen.includes(sid) && w.seen.includes(px.data.id));
  const l1 = await call('GET', '/sites?limit=1');
  checkAnswer('GET /sites?limit=1: 200 and the answer matches', op('GET', '/sites'), l1, 200);
  check('... one site and a next link with its cursor', l1.data && l1.data.items.length === 1 &&
    /\/api\/v1\/sites\?limit=1&cursor=\d+$/.test(l1.data.next), l1.data && l1.data.next);
  // certificates (t_certs.sh installs real ones): a refused upload names the field, unknown ones are 404
  const garbage = await call('POST', '/certificates', { body: { domain: 'contract.test', cert: 'not a certificate', key: 'no key' } });
  check('a garbage upload is refused naming cert', garbage && garbage.data && garbage.data.error && garbage.data.error.field === 'cert');
  const nosite = await call('POST', '/certificate-requests', { body: { domain: 'no-such-site.contract.test' } });
  check('a certificate request for no site is a 404 Error', nosite.status === 404 && valid(errorSchema, nosite.data) === null, `${nosite.status}`);
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const cdir = mkdtempSync('/tmp/contract-cert-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=contract.test',
    '-addext', 'subjectAltName=DNS:contract.test,DNS:www.contract.test', '-keyout', `${cdir}/k.pem`, '-out', `${cdir}/c.pem`], { stdio: 'ignore' });
  const up = await post('/certificates', '/certificates', { domain: 'contract.test',
    cert: readFileSync(`${cdir}/c.pem`, 'utf8'), key: readFileSync(`${cdir}/k.pem`, 'utf8') }, 201);
  const cid = up && up.data ? up.data.id : 0;
  check('an upload answers the Certificate without its key', up && up.data && up.data.source === 'upload' && !JSON.stringify(up.data).includes('PRIVATE KEY'));
  const cdet = await call('GET', `/certificates/${cid}`);
  checkAnswer('GET /certificates/{id} of the upload: 200 and the answer matches', op('GET', '/certificates/{id}'), cdet, 200);
  const norenew = await call('POST', `/certificates/${cid}/renew`, { body: {} });
  check('an upload is not renewed: 400 naming id', norenew.status === 400 && norenew.data.error.field === 'id', `${norenew.status}`);
  await post('/certificates/{id}/remove', `/certificates/${cid}/remove`, { confirmed: true }, 204);
  // ACME (pebble and its DNS on loopback, started by t_api.sh; never Let's Encrypt): an issuance
  // for two.api.test and its alias is a helper job, followed through GET /certificates/{id}.
  const settle = async (id) => {
    let d = null;
    for (let i = 0; i < 180; i++) {
      d = await call('GET', `/certificates/${id}`);
      if (!d.data || !d.data.certificate || d.data.certificate.state !== 'pending') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    return d;
  };
  const iss = await post('/certificate-requests', '/certificate-requests', { domain: 'two.api.test' }, 201);
  const iid = iss && iss.data ? iss.data.id : 0;
  check('an issuance answers the Certificate: pending, source acme, its job, names the site and its alias',
    iss && iss.data && iss.data.state === 'pending' && iss.data.source === 'acme' && Number.isInteger(iss.data.job) &&
    iss.data.names === 'two.api.test www.two.api.test' && iss.data.serial === null, iss && iss.text.slice(0, 300));
  const twice = await call('POST', '/certificate-requests', { body: { domain: 'two.api.test' } });
  check('a second request while the job runs: 409 exists naming domain (or the first is already done: 201)',
    (twice.status === 409 && valid(errorSchema, twice.data) === null && twice.data.error.field === 'domain') ||
    twice.status === 201, `${twice.status} ${twice.text.slice(0, 200)}`);
  const d1 = await settle(iid);
  checkAnswer('GET /certificates/{id} of the issued one: 200 and the answer matches', op('GET', '/certificates/{id}'), d1, 200);
  const c1 = d1.data && d1.data.certificate;
  check('... issued by pebble: ok, a serial, valid now, the job done at 100 % with certbot\'s output',
    c1 && c1.state === 'ok' && c1.error === null && /^[0-9A-F]+$/.test(c1.serial || '') && /Pebble/.test(c1.issuer || '') &&
    Date.parse(c1.not_after) > Date.now() && d1.data.job && d1.data.job.state === 'done' && d1.data.job.progress === 100 &&
    d1.data.job.output.length > 0, d1.text.slice(0, 600));
  const rn = await post('/certificates/{id}/renew', `/certificates/${iid}/renew`, {}, 200);
  check('a renewal answers the Certificate pending with a new job', rn && rn.data && rn.data.state === 'pending' &&
    rn.data.job !== (c1 && c1.job), rn && rn.text.slice(0, 300));
  const d2 = await settle(iid);
  const c2 = d2.data && d2.data.certificate;
  checkAnswer('GET /certificates/{id} after the renewal: 200 and the answer matches', op('GET', '/certificates/{id}'), d2, 200);
  check('... renewed: ok, a new serial, renewed now, renewal_ok', c2 && c1 && c2.state === 'ok' && c2.serial !== c1.serial &&
    c2.renewal_ok === true && c2.renewed !== null, d2.text.slice(0, 600));
  const listed = await call('GET', '/certificates');
  checkAnswer('GET /certificates with an upload and an issued one: 200 and the answer matches', op('GET', '/certificates'), listed, 200);
  check('... both there, the issued one with its site', listed.data && listed.data.items.length >= 2 &&
    listed.data.items.some((x) => x.id === iid && x.source === 'acme' && Number.isInteger(x.site)));
  // files (t_files.sh walks them for real): a streamed upload, the editor, create, rename, copy,
  // chmod, the trash; a path out of the document root is a 400 naming path.
  {
    const fo = op('POST', '/sites/{id}/files/content');
    done.add('/sites/{id}/files/content');
    const upr = await fetch(`${API}/sites/${sid}/files/content?path=c.txt`, { method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/octet-stream' }, body: 'contract\n' });
    const uptext = await upr.text();
    checkAnswer('POST /sites/{id}/files/content: 200 and the answer matches', fo,
      { status: upr.status, headers: upr.headers, text: uptext, data: JSON.parse(uptext || 'null') }, 200);
    await post('/sites/{id}/files/edit', `/sites/${sid}/files/edit`, { path: 'c.txt', content: 'edited\n', eol: 'lf' }, 200);
    await post('/sites/{id}/files/create', `/sites/${sid}/files/create`, { name: 'd', type: 'dir' }, 200);
    await post('/sites/{id}/files/rename', `/sites/${sid}/files/rename`, { path: 'c.txt', to: 'd/c.txt' }, 200);
    await post('/sites/{id}/files/copy', `/sites/${sid}/files/copy`, { path: 'd', to: 'e' }, 200);
    // A job this site never had: 404 naming job (t_files_jobs_cancel.sh cancels running ones).
    done.add('/sites/{id}/files/jobs/{job}/cancel');
    {
      const r = await call('POST', `/sites/${sid}/files/jobs/999999999/cancel`, { body: {} });
      check('POST /sites/{id}/files/jobs/{job}/cancel of an unknown job: 404 Error naming job',
        r.status === 404 && valid(errorSchema, r.data) === null && r.data.error.field === 'job', `${r.status} ${r.text.slice(0, 200)}`);
    }
    await post('/sites/{id}/files/chmod', `/sites/${sid}/files/chmod`, { path: 'e/c.txt', mode: '640' }, 200);
    // Sites here have no system users of their own: 409 naming owner (t_files_owner.sh walks the 200).
    done.add('/sites/{id}/files/chown');
    {
      const r = await call('POST', `/sites/${sid}/files/chown`, { body: { path: 'e/c.txt', owner: 'site' } });
      check('POST /sites/{id}/files/chown: 409 naming owner without system users', r.status === 409 &&
        r.data && r.data.error && r.data.error.field === 'owner', `status ${r.status}: ${r.text.slice(0, 200)}`);
    }
    await post('/sites/{id}/files/archive', `/sites/${sid}/files/archive`, { path: 'e', to: 'e.tar.gz', format: 'tar.gz' }, 200);
    await post('/sites/{id}/files/extract', `/sites/${sid}/files/extract`, { path: 'e.tar.gz', to: 'f' }, 200);
    const del = await post('/sites/{id}/files/delete', `/sites/${sid}/files/delete`, { path: 'e' }, 200);
    await post('/sites/{id}/files/trash/restore', `/sites/${sid}/files/trash/restore`,
      { entry: del && del.data ? del.data.trash_entry : 'x'.repeat(17) }, 200);
    await post('/sites/{id}/files/delete', `/sites/${sid}/files/delete`, { path: 'e' }, 200);
    await post('/sites/{id}/files/trash/empty', `/sites/${sid}/files/trash/empty`, {}, 204);
    // The admins' other roots (files.roots = "www:…" in t_api.sh; t_files_roots.sh walks them for real).
    {
      const ro = op('POST', '/files/roots/{root}/content');
      done.add('/files/roots/{root}/content');
      const r = await fetch(`${API}/files/roots/www/content?path=r.txt&overwrite=true`, { method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/octet-stream' }, body: 'root\n' });
      const t = await r.text();
      checkAnswer('POST /files/roots/{root}/content: 200 and the answer matches', ro,
        { status: r.status, headers: r.headers, text: t, data: JSON.parse(t || 'null') }, 200);
      await post('/files/roots/{root}/edit', '/files/roots/www/edit', { path: 'r.txt', content: 'edited\n', eol: 'lf' }, 200);
      // The rest of a root's file manager: the same handlers as a site's (t_files_roots_more.sh walks the pages).
      await post('/files/roots/{root}/create', '/files/roots/www/create', { path: '', name: 'rd', type: 'dir' }, 200);
      await post('/files/roots/{root}/rename', '/files/roots/www/rename', { path: 'r.txt', to: 'rd/r.txt' }, 200);
      await post('/files/roots/{root}/copy', '/files/roots/www/copy', { path: 'rd', to: 'rc' }, 200);
      done.add('/files/roots/{root}/jobs/{job}/cancel');
      {
        const r = await call('POST', '/files/roots/www/jobs/999999999/cancel', { body: {} });
        check('POST /files/roots/{root}/jobs/{job}/cancel of an unknown job: 404 Error naming job',
          r.status === 404 && valid(errorSchema, r.data) === null && r.data.error.field === 'job', `${r.status} ${r.text.slice(0, 200)}`);
      }
      await post('/files/roots/{root}/chmod', '/files/roots/www/chmod', { path: 'rc/r.txt', mode: '640' }, 200);
      await post('/files/roots/{root}/archive', '/files/roots/www/archive', { path: 'rc', to: 'rc.zip' }, 200);
      await post('/files/roots/{root}/extract', '/files/roots/www/extract', { path: 'rc.zip', to: 'rx' }, 200);
      const rdel = await post('/files/roots/{root}/delete', '/files/roots/www/delete', { path: 'rc' }, 200);
      await post('/files/roots/{root}/trash/restore', '/files/roots/www/trash/restore',
        { entry: rdel && rdel.data ? rdel.data.trash_entry : 'x'.repeat(17) }, 200);
      await post('/files/roots/{root}/delete', '/files/roots/www/delete', { path: 'rx' }, 200);
      await post('/files/roots/{root}/trash/empty', '/files/roots/www/trash/empty', {}, 204);
      done.add('/files/roots/{root}/upload');
      const rfd = new FormData();
      rfd.append('path', 'rd');
      rfd.append('files', new Blob(['one\n']), 'one.txt');
      const rmp = await fetch(`${API}/files/roots/www/upload`, { method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}` }, body: rfd });
      const rmpt = await rmp.text();
      checkAnswer('POST /files/roots/{root}/upload (multipart): 200 and the answer matches',
        op('POST', '/files/roots/{root}/upload'), { status: rmp.status, headers: rmp.headers, text: rmpt,
          data: JSON.parse(rmpt || 'null') }, 200);
    }
    done.add('/sites/{id}/files/upload');
    const fd = new FormData();
    fd.append('path', 'd');
    fd.append('files', new Blob(['one\n']), 'one.txt');
    fd.append('files', new Blob(['two\n']), 'two.txt');
    const mpr = await fetch(`${API}/sites/${sid}/files/upload`, { method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` }, body: fd });
    const mptext = await mpr.text();
    checkAnswer('POST /sites/{id}/files/upload (multipart, two files): 200 and the answer matches',
      op('POST', '/sites/{id}/files/upload'), { status: mpr.status, headers: mpr.headers, text: mptext,
        data: JSON.parse(mptext || 'null') }, 200);
    const out = await call('GET', `/sites/${sid}/files/content?path=../../canary`);
    check('a path out of the document root: 400 Error naming path', out.status === 400 &&
      valid(errorSchema, out.data) === null && out.data.error.field === 'path', `${out.status} ${out.text.slice(0, 200)}`);
  }
  await post('/sites/{id}/delete', `/sites/${sid}/delete`, { delete_files: true }, 204);
  await call('POST', `/sites/${px.data ? px.data.id : 0}/delete`, { body: { delete_files: true } });
  const gone = await call('GET', `/sites/${sid}`);
  check('a deleted site is a 404 Error', gone.status === 404 && valid(errorSchema, gone.data) === null, `${gone.status}`);
  // scheduled tasks (t_tasks.sh runs them under the real cron): a bad schedule names its field
  const badsched = await call('POST', '/tasks', { body: { name: 'contract-task', schedule: '61 * * * *', command: '/bin/true' } });
  check('a task with a bad schedule is a 400 Error naming schedule', badsched.status === 400 &&
    valid(errorSchema, badsched.data) === null && badsched.data.error.field === 'schedule', `${badsched.status}`);
  const tk = await post('/tasks', '/tasks', { name: 'contract-task', schedule: '*/5 * * * *', command: '/bin/echo contract' }, 201);
  const tid = tk && tk.data ? tk.data.id : 0;
  const pv = await call('GET', '/tasks/preview?schedule=0%203%20*%20*%20*');
  checkAnswer('GET /tasks/preview: 200 and the answer matches', op('GET', '/tasks/preview'), pv, 200);
  check('... the next five runs', pv.data && pv.data.next_runs.length === 5);
  await post('/tasks/{id}/run', `/tasks/${tid}/run`, {}, 200);
  let td = null;
  for (let i = 0; i < 50; i++) {
    td = await call('GET', `/tasks/${tid}`);
    if (td.data && td.data.runs && td.data.runs.length && td.data.runs[0].state !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  checkAnswer('GET /tasks/{id} after a run: 200 and the answer matches', op('GET', '/tasks/{id}'), td, 200);
  check('... the run is ok with its output', td.data && td.data.runs[0].state === 'ok' && td.data.runs[0].output === 'contract\n',
    td.text.slice(0, 300));
  await post('/tasks/{id}/disable', `/tasks/${tid}/disable`, {}, 200);
  await post('/tasks/{id}/enable', `/tasks/${tid}/enable`, {}, 200);
  const tl = await call('GET', '/tasks');
  checkAnswer('GET /tasks with a task: 200 and the answer matches', op('GET', '/tasks'), tl, 200);
  await post('/tasks/{id}/remove', `/tasks/${tid}/remove`, { confirmed: true }, 204);
}
// databases (t_api.sh starts a MariaDB; a server and a database were made before the walk)
{
  const { MYSQL_ADMIN_DSN, MYSQL_ADMIN_PASSWORD } = process.env;
  const down = await call('POST', '/database-servers', { body: { name: 'nowhere', dsn: 'mysql://root@127.0.0.1:1/', password: 'x' } });
  check('a database server that does not answer is refused: an Error naming server', down.status === 422 &&
    valid(errorSchema, down.data) === null && down.data.error.field === 'server', `${down.status}`);
  const srv = await post('/database-servers', '/database-servers', { name: 'contract', dsn: MYSQL_ADMIN_DSN, password: MYSQL_ADMIN_PASSWORD }, 201);
  check('... the new server is reachable, its answer without the password', srv && srv.data && srv.data.reachable === true &&
    !JSON.stringify(srv.data).includes(MYSQL_ADMIN_PASSWORD));
  const hostile = await call('POST', '/databases', { body: { server: 'contract', name: 'x; DROP DATABASE mysql' } });
  check('a hostile database name is a 400 naming name', hostile.status === 400 && hostile.data.error.field === 'name');
  const ndb = await post('/databases', '/databases', { server: 'contract', name: 'contract_db', hosts: '127.0.0.1' }, 201);
  const did = ndb && ndb.data ? ndb.data.id : 0;
  check('... the new database answers its user and a password, once', ndb && ndb.data && ndb.data.user === 'contract_db' &&
    /^[A-Za-z0-9]{24}$/.test(ndb.data.password));
  const pw = await post('/databases/{id}/password', `/databases/${did}/password`, {}, 200);
  check('... a new password', pw && pw.data && pw.data.password !== ndb.data.password);
  const ro = await post('/databases/{id}/reader', `/databases/${did}/reader`, {}, 200);
  check('... a read-only user, contract_db_ro', ro && ro.data && ro.data.user === 'contract_db_ro' && ro.data.password.length === 24);
  const ln = await post('/databases/{id}/site', `/databases/${did}/site`, { site: 'one.api.test' }, 200);
  check('... linked to a site', ln && ln.data && ln.data.site === 'one.api.test');
  // export and import: helper jobs (t_dbio.sh has the round trips; here the answers' shapes)
  const waitJob = async (id) => {
    let j = null;
    for (let i = 0; i < 100; i++) {
      j = await call('GET', `/databases/${did}/jobs/${id}`);
      if (!j.data || !j.data.job || (j.data.job.state !== 'queued' && j.data.job.state !== 'running')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return j;
  };
  const ex = await post('/databases/{id}/export', `/databases/${did}/export`, { format: 'sql' }, 200);
  const exj = await waitJob(ex && ex.data ? ex.data.id : 0);
  checkAnswer('GET /databases/{id}/jobs/{job}: 200 and the answer matches', op('GET', '/databases/{id}/jobs/{job}'), exj, 200);
  check('... the export is done, with its download', exj.data && exj.data.job.state === 'done' && exj.data.job.download_path !== null,
    exj.text.slice(0, 300));
  const dl = await fetch(`${API}/databases/${did}/jobs/${ex.data.id}/download`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const dump = await dl.text();
  check('GET /databases/{id}/jobs/{job}/download: 200, the dump', dl.status === 200 && dump.includes('-- MariaDB dump'), `${dl.status}`);
  done.add('/databases/{id}/import');
  const im = await fetch(`${API}/databases/${did}/import?format=sql`, { method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/octet-stream' }, body: dump });
  const imr = { status: im.status, headers: im.headers, text: await im.text() };
  try { imr.data = JSON.parse(imr.text); } catch { imr.data = null; }
  checkAnswer('POST /databases/{id}/import: 200 and the answer matches', op('POST', '/databases/{id}/import'), imr, 200);
  const imj = await waitJob(imr.data ? imr.data.id : 0);
  check('... the import is done', imj.data && imj.data.job.state === 'done', imj.text.slice(0, 300));
  done.add('/databases/{id}/import/upload');
  const fdb = new FormData();
  fdb.append('file', new Blob([dump], { type: 'application/sql' }), 'contract.sql');
  const up = await fetch(`${API}/databases/${did}/import/upload`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: fdb });
  const upr = { status: up.status, headers: up.headers, text: await up.text() };
  try { upr.data = JSON.parse(upr.text); } catch { upr.data = null; }
  checkAnswer('POST /databases/{id}/import/upload (multipart): 200 and the answer matches', op('POST', '/databases/{id}/import/upload'), upr, 200);
  await waitJob(upr.data ? upr.data.id : 0);
  const wrong = await call('POST', `/databases/${did}/remove`, { body: { confirmed: true, confirm_name: 'nope' } });
  check('dropping with a wrong typed name is a 400 naming confirm_name', wrong.status === 400 && wrong.data.error.field === 'confirm_name');
  await post('/databases/{id}/remove', `/databases/${did}/remove`, { confirmed: true, confirm_name: 'contract_db' }, 204);
  const sl = await call('GET', '/database-servers');
  const sid2 = sl.data && sl.data.items.find((x) => x.name === 'contract');
  await post('/database-servers/{id}/remove', `/database-servers/${sid2 ? sid2.id : 0}/remove`, { confirmed: true }, 204);
}
// backups (t_backups.sh backs up and restores for real; a destination and a run were made before the walk)
{
  const hostile = await call('POST', '/backup-destinations', { body: { name: 'contract', url: 'local:/srv/x;reboot' } });
  check('a hostile destination URL is a 400 naming url', hostile.status === 400 && hostile.data.error.field === 'url');
  const bd = await post('/backup-destinations', '/backup-destinations', { name: 'contract', url: 'local:/srv/contract-backups' }, 201);
  check('... the destination answers no secret', bd && bd.data && bd.data.kind === 'local' && !('password' in bd.data));
  const br = await post('/backups', '/backups', { kind: 'site', target: 'one.api.test', dest: 'contract', keep_last: 3 }, 201);
  const rid = br && br.data ? br.data.id : 0;
  let rd;
  for (let i = 0; i < 300; i++) {
    rd = await call('GET', `/backups/runs/${rid}`);
    if (!rd.data || rd.data.state !== 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check('... the backup ends done with a snapshot', rd.data && rd.data.state === 'done' && /^[0-9a-f]{8,}$/.test(rd.data.snapshot),
    rd.text.slice(0, 300));
  done.add('/backups/runs/{id}/cancel'); // a run that ended: a 4XX Error naming id (t_backups.sh cancels a running one)
  const cn = await call('POST', `/backups/runs/${rid}/cancel`, { body: {} });
  check('cancelling a run that ended is a 400 Error naming id', cn.status === 400 && valid(errorSchema, cn.data) === null &&
    cn.data.error.field === 'id', `${cn.status}`);
  const rs = await post('/backups/restore', '/backups/restore', { dest: 'contract', snapshot: rd.data ? rd.data.snapshot : 'latest',
    kind: 'site', target: 'one.api.test', to: 'path', new_dir: 'contract-restored', confirmed: true }, 201);
  for (let i = 0; rs && rs.data && i < 300; i++) {
    rd = await call('GET', `/backups/runs/${rs.data.id}`);
    if (!rd.data || rd.data.state !== 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check('... the restore to a new folder ends done', rd.data && rd.data.state === 'done', rd.text.slice(0, 300));
  // the panel itself (t_backup_panel.sh checks its contents and restores for real)
  const pb = await post('/backups/panel', '/backups/panel', { dest: 'contract', secret: false }, 201);
  for (let i = 0; pb && pb.data && i < 300; i++) {
    rd = await call('GET', `/backups/runs/${pb.data.id}`);
    if (!rd.data || rd.data.state !== 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check('... the panel backup ends done', rd.data && rd.data.state === 'done', rd.text.slice(0, 300));
  const psnap = rd.data ? rd.data.snapshot : 'latest';
  await post('/backups/panel/restore', '/backups/panel/restore', { dest: 'contract', snapshot: psnap, new_dir: 'contract-panel' }, 201);
  const sn = await call('GET', '/backups/snapshots?dest=contract&kind=panel');
  checkAnswer('GET /backups/snapshots of the panel: 200 and the answer matches', op('GET', '/backups/snapshots'), sn, 200);
  const sp = sn.data && sn.data.items.length ? sn.data.items[0].paths[0] : '/';
  const tr = await call('GET', `/backups/snapshots/${psnap}/tree?dest=contract&path=${encodeURIComponent(sp)}`);
  checkAnswer('GET /backups/snapshots/{snapshot}/tree: 200 and the answer matches', op('GET', '/backups/snapshots/{snapshot}/tree'), tr, 200);
  const fl = await call('GET', `/backups/snapshots/${psnap}/file?dest=contract&path=${encodeURIComponent(sp + '/MANIFEST.json')}`);
  check('GET /backups/snapshots/{snapshot}/file: 200 application/octet-stream, the manifest', fl.status === 200 &&
    (fl.headers.get('content-type') || '').startsWith('application/octet-stream') && fl.text.includes('"backend"'), `status ${fl.status}`);
  const bo = await call('GET', '/backups');
  checkAnswer('GET /backups after a backup: 200 and the answer matches', op('GET', '/backups'), bo, 200);
  await post('/backup-destinations/{name}/remove', '/backup-destinations/contract/remove', { confirmed: true }, 204);
}
// services (t_services.sh controls real units under systemd in a namespace): a hostile name is refused naming it
// (4XX in the document, as every refusal: checked against the Error schema, like the firewall's below)
done.add('/service-actions');
const svc = await call('POST', '/service-actions', { body: { name: 'nginx; rm', action: 'stop' } });
check('a hostile unit name is a 400 Error naming name', svc.status === 400 && svc.data && svc.data.error &&
  svc.data.error.field === 'name' && valid(errorSchema, svc.data) === null, `${svc.status}`);
// ---------------------------------------------------------------- firewall
// (t_api.sh gives the helper a network namespace of its own: never the machine's ruleset)
{
  const fwbad = await call('POST', '/firewall/rules', { body: { action: 'allow', ports: '80; reboot' } });
  check('a hostile port is a 400 Error naming ports', fwbad.status === 400 && fwbad.data && fwbad.data.error &&
    fwbad.data.error.field === 'ports' && valid(errorSchema, fwbad.data) === null, `${fwbad.status}`);
  const fr = await post('/firewall/rules', '/firewall/rules', { action: 'allow', ports: '8443', proto: 'tcp',
    from: '192.0.2.0/24 2001:db8::/32', comment: 'contract' }, 201);
  const fb = await post('/firewall/block', '/firewall/block', { address: '198.51.100.7', comment: 'contract' }, 201);
  await post('/firewall/settings', '/firewall/settings', { policy: 'accept', icmp_echo: true }, 200);
  const ap = await post('/firewall/apply', '/firewall/apply', {}, 200);
  check('... the apply answers the serial to confirm', ap && ap.data && ap.data.serial > 0);
  const pend = await call('GET', '/firewall');
  checkAnswer('GET /firewall with a change pending: 200 and the answer matches', op('GET', '/firewall'), pend, 200);
  check('... the rule is in the kernel, the change pending', pend.data && pend.data.pending !== null &&
    pend.data.rules.some((r) => fr && fr.data && r.id === fr.data.id && r.in_kernel === true));
  await post('/firewall/confirm', '/firewall/confirm', {}, 200);
  await post('/firewall/rules/{id}/remove', `/firewall/rules/${fr && fr.data ? fr.data.id : 0}/remove`, { confirmed: true }, 204);
  await post('/firewall/block/{id}/remove', `/firewall/block/${fb && fb.data ? fb.data.id : 0}/remove`, { confirmed: true }, 204);
}
await twoFactorOff();
const posts = ops.filter((o) => o.method === 'POST' && !o.browser && !done.has(o.path));
check('every POST operation has a scenario in tests/api/contract.mjs', posts.length === 0,
  posts.map((o) => o.path).join(', '));

// ---------------------------------------------------------------- no view-only members
{
  let found = null;
  for (const a of answers) { const f = viewOnlyIn(a.data); if (f) { found = `${a.name}: ${f}`; break; } }
  check(`no answer carries a member only templates use (${answers.length} answers)`, found === null, found);
}

// ---------------------------------------------------------------- pagination under inserts
async function walk(first, key) {
  const seen = [];
  let next = first, pages = 0;
  while (next) {
    const r = await fetch(`${ORIGIN}${next}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const d = await r.json();
    if (r.status !== 200 || !Array.isArray(d.items)) throw new Error(`${next}: ${r.status}`);
    for (const it of d.items) seen.push(it[key]);
    next = d.next;
    pages++;
    if (pages > 1000) throw new Error('more than 1000 pages');
  }
  return { seen, pages };
}
{
  // Three clients adding users (each create hashes a password: slow) while one walks.
  let adding = true, added = 0, n = 0;
  const adders = [1, 2, 3].map(() => (async () => {
    while (adding) {
      const r = await call('POST', '/users', { body: { username: `during-${n++}`, role: 'viewer', password: NEWPW } });
      if (r.status === 201) added++;
    }
  })());
  const slowWalk = async (first) => {
    const seen = [];
    let next = first, pages = 0;
    while (next) {
      const r = await fetch(`${ORIGIN}${next}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      const d = await r.json();
      if (r.status !== 200 || !Array.isArray(d.items)) throw new Error(`${next}: ${r.status} ${JSON.stringify(d)}`);
      for (const it of d.items) seen.push(it.id);
      next = d.next;
      pages++;
      await new Promise((res) => setTimeout(res, 20));
    }
    return { seen, pages };
  };
  const { seen, pages } = await slowWalk('/api/v1/users?limit=37');
  adding = false;
  await Promise.all(adders);
  const uniq = new Set(seen);
  const before = seen.filter((id) => id <= PRE_MAX_ID);
  check(`walking /users by next (${pages} pages of 37, ${seen.length} users, ${added} added meanwhile): no duplicates`,
    uniq.size === seen.length);
  check('... in order (ids ascending)', seen.every((v, i) => i === 0 || v > seen[i - 1]));
  check(`... every user that existed before is there once (${before.length} of ${PRE_COUNT})`,
    before.length === PRE_COUNT);
  check('... and users were being added while it walked', added > 0);
}
{
  let adding = true;
  const adder = (async () => {
    while (adding) await call('POST', '/account/tokens', { body: { name: 'audit-filler', scope: 'read' } });
  })();
  const top = await call('GET', '/audit?limit=1');
  const topId = top.data.items[0].id;
  const { seen, pages } = await walk('/api/v1/audit?limit=5', 'id');
  adding = false;
  await adder;
  const old = seen.filter((id) => id <= topId);
  check(`walking /audit newest first (${pages} pages, ${seen.length} entries): no duplicates, in order`,
    new Set(seen).size === seen.length && seen.every((v, i) => i === 0 || v < seen[i - 1]));
  check(`... every entry up to the first page's newest (${topId}) is there`, old.length === topId &&
    old[old.length - 1] === 1, `${old.length} entries, the last ${old[old.length - 1]}`);
}
{
  // Filters, and next links that keep them.
  const all = (await walk('/api/v1/users?limit=500', 'role')).seen;
  const viewers = await walk('/api/v1/users?role=viewer&limit=100', 'role');
  check(`/users?role=viewer walked by next: only viewers, all of them (${viewers.seen.length} in ${viewers.pages} pages)`,
    viewers.pages > 1 && viewers.seen.every((r) => r === 'viewer') &&
    viewers.seen.length === all.filter((r) => r === 'viewer').length);
  const dis = await call('GET', '/users?disabled=false&role=admin');
  check('/users?disabled=false&role=admin: enabled admins only', dis.status === 200 && dis.data.items.length >= 1 &&
    dis.data.items.every((x) => !x.disabled && x.role === 'admin'));
  const act = await call('GET', '/tokens?active=false');
  check(`/tokens?active=false: revoked or expired tokens only (${act.data.items.length})`, act.status === 200 &&
    act.data.items.length > 0 && act.data.items.every((x) => !x.active));
  const mine = await call('GET', `/tokens?user=${ADMIN}&active=true`);
  check(`/tokens?user=${ADMIN}&active=true: that user's usable tokens only`, mine.status === 200 &&
    mine.data.items.length > 0 && mine.data.items.every((x) => x.active && x.username === ADMIN));
}
{
  const r = await call('GET', '/users?limit=501');
  check('a limit above 500 is refused: 400 naming limit', r.status === 400 && r.data.error.field === 'limit');
  const r2 = await call('GET', '/users?cursor=x');
  check('a cursor that is not one: 400 naming cursor', r2.status === 400 && r2.data.error.field === 'cursor');
  const r3 = await call('GET', '/users');
  check(`no limit: ${r3.data.items.length} users, the default 50`, r3.data.items.length === 50);
}

// ---------------------------------------------------------------- Idempotency-Key
{
  const key = crypto.randomUUID();
  const body = { username: 'idem-one', role: 'viewer', password: NEWPW };
  const a = await call('POST', '/users', { body, headers: { 'Idempotency-Key': key } });
  const b = await call('POST', '/users', { body, headers: { 'Idempotency-Key': key } });
  check('a create retried with the same Idempotency-Key: 201 both times', a.status === 201 && b.status === 201,
    `${a.status} ${b.status}`);
  check('... the retry answers the first result (same id), marked Idempotent-Replayed',
    a.data && b.data && a.data.id === b.data.id && b.headers.get('idempotent-replayed') === 'true' &&
    JSON.stringify(a.data) === JSON.stringify(b.data));
  const all = await walk('/api/v1/users?limit=500', 'username');
  check('... and made one user', all.seen.filter((n) => n === 'idem-one').length === 1);
  const c = await call('POST', '/users', { body: { ...body, username: 'idem-two' }, headers: { 'Idempotency-Key': key } });
  check('the same key with other fields: 409 Error naming Idempotency-Key', c.status === 409 &&
    valid(errorSchema, c.data) === null && c.data.error.field === 'Idempotency-Key');
  const d = await call('POST', '/users', { body, headers: { 'Idempotency-Key': 'has space' } });
  check('a key with a space: 400 naming Idempotency-Key', d.status === 400 && d.data.error.field === 'Idempotency-Key');
  // Five at once with one key: one user; each answer is the user or "still running" (409).
  const k2 = crypto.randomUUID();
  const b2 = { username: 'idem-race', role: 'viewer', password: NEWPW };
  const rs = await Promise.all([1, 2, 3, 4, 5].map(() => call('POST', '/users', { body: b2, headers: { 'Idempotency-Key': k2 } })));
  const again = await call('POST', '/users', { body: b2, headers: { 'Idempotency-Key': k2 } });
  const all2 = await walk('/api/v1/users?limit=500', 'username');
  check(`five concurrent creates with one key (${rs.map((r) => r.status).join(' ')}): one user`,
    all2.seen.filter((n) => n === 'idem-race').length === 1 && rs.every((r) => r.status === 201 || r.status === 409));
  check('... and a retry afterwards replays it', again.status === 201 &&
    again.headers.get('idempotent-replayed') === 'true');
  const k3 = crypto.randomUUID();
  const t1 = await call('POST', '/account/tokens', { body: { name: 'idem-token', scope: 'read' }, headers: { 'Idempotency-Key': k3 } });
  const t2b = await call('POST', '/account/tokens', { body: { name: 'idem-token', scope: 'read' }, headers: { 'Idempotency-Key': k3 } });
  check('a token create replayed answers the same token without its secret (shown once, never stored)',
    t1.status === 201 && t2b.status === 201 && t1.data.id === t2b.data.id && /^apn_/.test(t1.data.token) &&
    t2b.data.token === null && valid(successSchema(op('POST', '/account/tokens').op, 201), t2b.data) === null);
  const ek = crypto.randomUUID();
  const e1 = await call('POST', '/users', { body: { username: 'idem-one', role: 'viewer', password: NEWPW }, headers: { 'Idempotency-Key': ek } });
  const e2 = await call('POST', '/users', { body: { username: 'idem-one', role: 'viewer', password: NEWPW }, headers: { 'Idempotency-Key': ek } });
  check('a failed create keeps no key: the retry runs again (409 exists both times, not a replay)',
    e1.status === 409 && e2.status === 409 && e2.headers.get('idempotent-replayed') === null);
}

console.log(`contract: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
