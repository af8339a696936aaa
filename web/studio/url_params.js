// The studio's and the widget's URL: the query (?synth=&method=&loss=&steps=&target=&preset=
// &autostart=&view=&test-hooks=) and the fragment of a share link (#synth=&method=&params=base64url JSON). Parsed in
// one place so that nothing from the address bar reaches the engine or the UI unchecked: names
// from the known lists, steps a whole number in range, URLs http(s) or relative, the shared
// parameters valid base64url of valid UTF-8 JSON naming a known synth. A bad value is ignored (the
// default stands) and reported in `errors`, one line each, with the offending text escaped.
// No DOM: tests/fuzz/fuzz_url_params.mjs runs it in node. Nothing here throws.

// The engine's names (engine::method_names / loss_names and `ddsp synths`; the node test checks the
// synths against the native binary), plus the amortised methods the worker adds.
export const SYNTHS = ['ks', 'drum808', 'drum', 'ddsp', 'sine'];
export const METHODS = ['gradient', 'genetic', 'cmaes', 'hybrid', 'amortised', 'amortised+gradient'];
export const LOSSES = ['mrstft', 'linear', 'diffks', 'timbre'];
export const VIEWS = ['match', 'latent'];  // the widget's (embed.html) view
export const MAX_STEPS = 100000;
export const MAX_URL_CHARS = 2048;
export const MAX_SHARED_PARAMS_CHARS = 6000;  // what files.js puts in a link (as JSON text)

// Text from the URL for a message: printable ASCII as is, everything else as \u escapes, cut to
// `max` characters. Never a control character, never an invalid byte.
export function printable(value, max = 40) {
  const s = String(value);
  let out = '';
  for (const ch of s.slice(0, max)) {
    const c = ch.codePointAt(0);
    out += c >= 0x20 && c < 0x7f ? ch : `\\u{${c.toString(16)}}`;
  }
  return s.length > max ? `${out}...` : out;
}

function pickName(name, value, known, errors) {
  if (value === null) return null;
  if (known.includes(value)) return value;
  errors.push(`URL: unknown ${name} '${printable(value)}' (${known.join(', ')})`);
  return null;
}

// A URL the page may fetch: relative (same site) or http(s); no other scheme, no control
// characters, not too long.
function pickUrl(name, value, errors) {
  if (value === null) return null;
  if (value.length === 0 || value.length > MAX_URL_CHARS || /[\u0000-\u001f\u007f-\u009f]/u.test(value)) {
    errors.push(`URL: bad ${name} '${printable(value)}'`);
    return null;
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(value);
  if (scheme && !/^https?$/i.test(scheme[1])) {
    errors.push(`URL: ${name} must be an http(s) or relative address, not '${printable(scheme[1])}:'`);
    return null;
  }
  return value;
}

// base64url (no padding needed) -> bytes -> UTF-8 text (strict); null on any flaw.
export function decodeBase64Url(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null;
  try {
    const bin = atob(text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

// The shared parameters: the JSON text of a parameter file naming a known synth (the engine checks
// the rest, as it does for an imported file).
function pickSharedParams(value, errors) {
  if (value === null) return null;
  const limit = 4 * MAX_SHARED_PARAMS_CHARS;  // up to 3 UTF-8 bytes a character, 4/3 for base64
  const text = value.length <= limit ? decodeBase64Url(value) : null;
  if (text === null) {
    errors.push('URL: the shared parameters (#params=) are not base64url-encoded UTF-8');
    return null;
  }
  let parsed;
  try { parsed = JSON.parse(text); } catch {
    errors.push('URL: the shared parameters (#params=) are not JSON');
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !SYNTHS.includes(parsed.synth)) {
    errors.push('URL: the shared parameters (#params=) do not name a known synth');
    return null;
  }
  return text;
}

// search: location.search ('?a=b' or ''), hash: location.hash ('#a=b' or ''). Returns
//   {synth, method, loss, steps, target, preset, params, autostart, view, testHooks, errors}
// with null for what is absent or refused (autostart: a boolean), errors one line each.
export function parseStudioUrl(search, hash) {
  const errors = [];
  let query, frag;
  try { query = new URLSearchParams(String(search ?? '')); } catch { query = new URLSearchParams(); }
  try { frag = new URLSearchParams(String(hash ?? '').replace(/^#/, '')); } catch { frag = new URLSearchParams(); }
  // The query wins over the fragment (a share link opened with ?synth= keeps the query's).
  // An empty value counts as absent (as `?synth=&method=gradient` means no synth).
  const get = (k, fromFragment = true) => query.get(k) || (fromFragment && frag.get(k)) || null;
  const out = {
    synth: pickName('synth', get('synth'), SYNTHS, errors),
    method: pickName('method', get('method'), METHODS, errors),
    loss: pickName('loss', get('loss', false), LOSSES, errors),
    steps: null,
    target: pickUrl('target', get('target', false), errors),
    preset: pickUrl('preset', get('preset', false), errors),
    params: pickSharedParams(frag.get('params') || null, errors),
    autostart: false,
    errors,
  };
  const steps = get('steps', false);
  if (steps !== null) {
    if (/^[0-9]{1,7}$/.test(steps) && Number(steps) >= 1 && Number(steps) <= MAX_STEPS) out.steps = Number(steps);
    else errors.push(`URL: steps must be a whole number in 1..${MAX_STEPS}, not '${printable(steps)}'`);
  }
  out.view = pickName('view', get('view', false), VIEWS, errors);
  out.testHooks = query.get('test-hooks') === '1';  // the crash hook of tests/browser/restart.test.mjs
  const autostart = query.get('autostart');
  if (autostart !== null) {
    if (autostart === '1' || autostart === 'true') out.autostart = true;
    else if (!(autostart === '0' || autostart === 'false' || autostart === '')) {
      errors.push(`URL: autostart must be 1, true, 0 or false, not '${printable(autostart)}'`);
    }
  }
  return out;
}
