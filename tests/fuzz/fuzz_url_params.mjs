// Seeded fuzzing of the pages' URL parsing (web/studio/url_params.js: embed.html's and the studio's
// query, and the share link's fragment) in node.
//   node tests/fuzz/fuzz_url_params.mjs [--seed S] [--inputs N] [--ddsp build/ddsp] [--index I]
// Per input: parseStudioUrl never throws; what it returns is only known names, a whole number of
// steps in range, http(s) or relative URLs without control characters, shared parameters that are
// JSON naming a known synth, a boolean autostart; every error is one line without control
// characters or lone surrogates. The real links (the tutorial's iframes, share links of real
// presets) parse without errors. With --ddsp, the page's synth list equals `ddsp synths`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOSSES, MAX_STEPS, METHODS, SYNTHS, parseStudioUrl } from '../../web/studio/url_params.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const seed = BigInt(opt('--seed', '1'));
const inputs = Number(opt('--inputs', '10000'));
const only = opt('--index', null);
const ddsp = opt('--ddsp', null);

// splitmix64, as the native driver's.
function rngOf(s) {
  let state = BigInt.asUintN(64, s);
  const next = () => {
    state = BigInt.asUintN(64, state + 0x9E3779B97F4A7C15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94D049BB133111EBn);
    return z ^ (z >> 31n);
  };
  const below = (n) => (n <= 0 ? 0 : Number(next() % BigInt(n)));
  return { next, below, pick: (a) => a[below(a.length)], chance: (k, n) => below(n) < k };
}

const toBase64Url = (bytes) => Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const b64 = (text) => toBase64Url(new TextEncoder().encode(text));

// [SECTION] seeds: the tutorial's iframes, share links of real presets
const tutorial = readFileSync(join(root, 'web/examples/tutorial.html'), 'utf8');
const seeds = [...tutorial.matchAll(/embed\.html(\?[^"]*)"/g)].map((m) => ({ search: m[1].replace(/&amp;/g, '&'), hash: '' }));
const presets = [
  readFileSync(join(root, 'web/examples/sine_440hz.json'), 'utf8'),
  '{"synth": "drum808", "sample_rate": 44100, "params": {"osc1_hz": 180, "noise_gain_db": -12}}',
  '{"synth": "ks", "sample_rate": 16000, "seconds": 1, "params": {"f0_hz": 220, "decay_s": [1.9, 2.1]}, "options": {"loop_order": 3}}',
  '{"synth": "sine", "params": {"frequency_hz": 440, "amplitude": 0.5, "name": "é ♪"}}',
];
for (const p of presets) {
  seeds.push({ search: '', hash: `#${new URLSearchParams({ synth: JSON.parse(p).synth, method: 'gradient', params: b64(p) })}` });
}
seeds.push({ search: '?synth=drum&method=hybrid&loss=timbre&steps=100000&autostart=0', hash: '' });
seeds.push({ search: '?target=https://example.org/a%20b.wav&preset=../x.json&autostart=true', hash: '#method=genetic' });
if (seeds.length < 8) throw new Error('fuzz_url_params: the tutorial lost its iframes?');

// [SECTION] mutations
const keys = ['synth', 'method', 'loss', 'steps', 'target', 'preset', 'autostart', 'params', 'x', '', 'SYNTH'];
const values = [
  ...SYNTHS, ...METHODS, ...LOSSES, 'KS', 'ks ', ' ks', 'ks\u0000', '', '0', '1', '-1', '1e3', '1.5', 'NaN', 'Infinity',
  '-Infinity', '0x10', '100000', '100001', '99999999999999999999', ' 5', '5 ', '+5', '1e-7', 'true', 'false', 'yes',
  'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/plain,x', 'file:///etc/passwd', '//example.org/x.wav',
  'https://example.org/x.wav', 'http:x', 'blob:abc', 'assets/sounds/pluck_nylon_e3.wav', '../../../etc/passwd',
  '\u001b[31mred', '\u0085', '\u009b', '\u2028', '\ud800', '\udfff', '😀', 'x'.repeat(5000), '%', '%zz', '%00',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty',
];
const rawBits = ['%00', '%0a', '%0d', '%1b', '%7f', '%c2%85', '%c2%9b', '%ed%a0%80', '%ff', '%fe', '%c0%af', '%', '%4', '%zz',
  '&', '=', '==', '&&', '+', '#', '?', ';', '%26', '%3d', '%23'];

function mutateText(s, r) {
  const at = r.below(s.length + 1);
  switch (r.below(7)) {
    case 0: return s.slice(0, at) + r.pick(rawBits) + s.slice(at);
    case 1: return s.slice(0, at) + s.slice(at + 1 + r.below(8));
    case 2: { const cut = r.below(s.length + 1); return s.slice(0, cut); }
    case 3: return s.slice(0, at) + String.fromCharCode(r.below(0x110)) + s.slice(at);
    case 4: { const from = r.below(s.length), len = 1 + r.below(20); return s.slice(0, at) + s.slice(from, from + len) + s.slice(at); }
    case 5: { const v = r.pick(values); let e; try { e = encodeURIComponent(v); } catch { e = v; } return s.slice(0, at) + e + s.slice(at); }
    default: return s.slice(0, at) + String.fromCharCode(r.below(0x10000)) + s.slice(at);
  }
}

function mutateParams(text, r, isHash) {
  const p = new URLSearchParams(text.replace(/^[?#]/, ''));
  const entries = [...p.entries()];
  switch (r.below(6)) {
    case 0: entries.push([r.pick(keys), r.pick(values)]); break;
    case 1: if (entries.length) entries[r.below(entries.length)][1] = r.pick(values); break;
    case 2: if (entries.length) entries.splice(r.below(entries.length), 1); break;
    case 3: if (entries.length) entries.push(entries[r.below(entries.length)]); break;  // duplicate key
    case 4: if (entries.length) entries[r.below(entries.length)][0] = r.pick(keys); break;
    default: entries.push(['params', mutateShared(r)]);
  }
  return (isHash ? '#' : '?') + new URLSearchParams(entries).toString();
}

// A share link's params value: base64url of good JSON, bad JSON, bad UTF-8, or broken base64.
function mutateShared(r) {
  const good = r.pick(presets);
  switch (r.below(9)) {
    case 0: return b64(good);
    case 1: return b64(good.slice(0, r.below(good.length)));
    case 2: return toBase64Url(Uint8Array.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80].slice(r.below(7))));
    case 3: return b64(r.pick(['null', '[]', '1', '"ks"', '{}', '{"synth": 5}', '{"synth": "KS"}', '{"synth": "ks"}',
      '{"synth": "__proto__"}', '{"__proto__": {"synth": "ks"}}', '[' .repeat(100000)]));
    case 4: { const s = b64(good); const at = r.below(s.length); return s.slice(0, at) + r.pick(['=', '+', '/', '*', ' ', '%', '\u0000', 'é']) + s.slice(at + 1); }
    case 5: return b64(good).slice(0, 1 + r.below(20));
    case 6: return 'A'.repeat(r.below(40000));
    case 7: return b64(good) + '='.repeat(r.below(4));
    default: return b64(good.replace(/"synth": "(\w+)"/, `"synth": "${r.pick(values).replace(/"/g, '')}"`));
  }
}

function makeInput(index) {
  const r = rngOf(seed * 1000003n + BigInt(index) * 0x9E3779B97F4A7C15n + 7n);
  let { search, hash } = r.pick(seeds);
  const rounds = 1 + r.below(r.chance(1, 8) ? 8 : 3);
  for (let k = 0; k < rounds; k++) {
    const which = r.below(4);
    if (which === 0) search = mutateParams(search, r, false);
    else if (which === 1) hash = mutateParams(hash, r, true);
    else if (which === 2) search = mutateText(search, r);
    else hash = mutateText(hash, r);
  }
  return { search, hash };
}

// [SECTION] properties
const controls = /[\u0000-\u001f\u007f-\u009f]/u;
const wellFormed = (s) => (typeof s.isWellFormed === 'function' ? s.isWellFormed() : !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')));

function problems(out) {
  const bad = [];
  if (!out || typeof out !== 'object') return ['no result object'];
  if (!(out.synth === null || SYNTHS.includes(out.synth))) bad.push(`synth ${JSON.stringify(out.synth)}`);
  if (!(out.method === null || METHODS.includes(out.method))) bad.push(`method ${JSON.stringify(out.method)}`);
  if (!(out.loss === null || LOSSES.includes(out.loss))) bad.push(`loss ${JSON.stringify(out.loss)}`);
  if (!(out.steps === null || (Number.isInteger(out.steps) && out.steps >= 1 && out.steps <= MAX_STEPS))) bad.push(`steps ${out.steps}`);
  for (const k of ['target', 'preset']) {
    const v = out[k];
    if (v === null) continue;
    if (typeof v !== 'string' || controls.test(v) || v.length > 2048 || v.length === 0) bad.push(`${k} ${JSON.stringify(v)}`);
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(v);
    if (scheme && !/^https?$/i.test(scheme[1])) bad.push(`${k} scheme ${scheme[1]}`);
  }
  if (out.params !== null) {
    let p = null;
    try { p = JSON.parse(out.params); } catch { bad.push('params not JSON'); }
    if (p && (typeof p !== 'object' || !SYNTHS.includes(p.synth))) bad.push('params without a known synth');
  }
  if (typeof out.autostart !== 'boolean') bad.push('autostart not boolean');
  if (!Array.isArray(out.errors)) return [...bad, 'errors not an array'];
  for (const e of out.errors) {
    if (typeof e !== 'string' || e.length === 0 || e.length > 400 || controls.test(e) || /[\n\r]/.test(e) || !wellFormed(e)) {
      bad.push(`bad error message ${JSON.stringify(e).slice(0, 200)}`);
    }
  }
  return bad;
}

// [SECTION] run
let failures = 0, accepted = 0, refused = 0;
for (const s of seeds) {
  const out = parseStudioUrl(s.search, s.hash);
  if (out.errors.length || problems(out).length) {
    failures++;
    console.error(`FAIL seed link ${JSON.stringify(s)}: ${out.errors.join('; ')} ${problems(out).join('; ')}`);
  }
}
const parsedPreset = parseStudioUrl('', seeds.at(-3).hash);
if (!parsedPreset.params || JSON.parse(parsedPreset.params).synth !== 'sine') { failures++; console.error('FAIL: a share link lost its parameters'); }
if (ddsp) {
  const names = JSON.parse(execFileSync(ddsp, ['synths'], { encoding: 'utf8' })).map((x) => x.name).sort();
  if (JSON.stringify(names) !== JSON.stringify([...SYNTHS].sort())) {
    failures++;
    console.error(`FAIL: url_params.js SYNTHS ${SYNTHS} differ from \`ddsp synths\`: ${names}`);
  }
}
const first = only === null ? 0 : Number(only), last = only === null ? inputs : Number(only) + 1;
for (let i = first; i < last; i++) {
  const input = makeInput(i);
  let bad;
  try {
    const out = parseStudioUrl(input.search, input.hash);
    bad = problems(out);
    if (out.errors.length) refused++; else accepted++;
  } catch (e) {
    bad = [`threw ${e?.name}: ${e?.message}`];
  }
  if (bad.length) {
    failures++;
    if (failures < 20) {
      console.error(`FAIL url #${i} (reproduce: node tests/fuzz/fuzz_url_params.mjs --seed ${seed} --index ${i}): ${bad.join('; ')}`);
      console.error(`  input: ${JSON.stringify(input).slice(0, 400)}`);
    }
  }
}
console.log(`url: ${last - first} inputs, ${failures} failures, ${accepted} accepted, ${refused} refused (seed ${seed})`);
process.exit(failures ? 1 : 0);
