// Small helpers shared by the studio's modules: WAV encoding, downloads, base64url (decoding: url_params.js), names, numbers.

// 32-bit float mono WAV (what `ddsp match` writes as recon.wav).
export function encodeWav(samples, sampleRate) {
  const n = samples.length;
  const buf = new ArrayBuffer(44 + 4 * n);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + 4 * n, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 3, true); v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true); v.setUint32(28, sampleRate * 4, true); v.setUint16(32, 4, true);
  v.setUint16(34, 32, true); str(36, 'data'); v.setUint32(40, 4 * n, true);
  for (let i = 0; i < n; i++) v.setFloat32(44 + 4 * i, Number.isFinite(samples[i]) ? samples[i] : 0, true);
  return buf;
}

export function download(data, filename, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export const toBase64Url = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

export const baseName = (path) => String(path).split(/[\\/]/).pop();

// A loss for the status line: four significant digits, or a dash.
export const fmt = (x) => (x === null || x === undefined ? '–' : Number(x).toPrecision(4));

// Text quoted from input (file names, the engine's errors, names from a parameter file) made safe to
// show: C0 controls, DEL and C1 controls (U+0080-U+009F) become visible escapes (\n, \t, \r, \xHH),
// as do the line and paragraph separators and the bidirectional overrides and isolates (which can
// make a message read backwards); lone UTF-16 surrogates (what invalid bytes decode to in a name)
// become U+FFFD. Longer than maxChars: cut with an ellipsis. Every message sink calls it (the
// status line, the panels' status lines, the UI's target label).
const NAMED_ESCAPES = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
export function safeText(text, maxChars = 2000) {
  let s = String(text ?? '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  s = s.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return NAMED_ESCAPES[c] ?? (code < 0x100 ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase()}`);
  });
  return s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s;
}
