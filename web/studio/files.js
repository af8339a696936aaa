// What leaves and enters the studio besides recordings: the parameter file (export / import, the
// #params-input dialog), the reconstruction as WAV, and share links (synth, method and parameters
// in the URL's hash, read back at start-up by studio.js).
import { encodeWav, toBase64Url } from './util.js';

const SHARE_LIMIT_CHARS = 6000;  // longer links break in chat apps; ddsp's frame-wise params are ~1 MB

// Adds s.exportParams, s.exportWav, s.importParams and s.share.
export function installFiles(s) {
  const { state, setStatus } = s;

  function exportParams() {
    if (!state.params) throw new Error('Nothing to export yet: match or edit a synth first');
    return state.params;
  }
  function exportWav() {
    if (!state.recon) throw new Error('Nothing to export yet: match or edit a synth first');
    return new Blob([encodeWav(state.recon.samples, state.recon.sampleRate)], { type: 'audio/wav' });
  }

  async function importParams(text) {
    let parsed;
    try { parsed = JSON.parse(text); } catch (e) { setStatus(`Parameter file: ${e.message}`, true); throw e; }
    if (!parsed?.synth) { setStatus('Parameter file: no "synth" field', true); throw new Error(state.error); }
    state.synth = parsed.synth;
    s.ui.setParams(text);
    await s.render(text).catch(() => {});
  }

  function share() {
    const h = new URLSearchParams({ synth: state.synth, method: state.method });
    if (state.params && state.params.length < SHARE_LIMIT_CHARS) h.set('params', toBase64Url(state.params));
    const url = `${location.origin}${location.pathname}#${h}`;
    history.replaceState(null, '', url);
    navigator.clipboard?.writeText(url).catch(() => {});
    setStatus(state.params && state.params.length >= SHARE_LIMIT_CHARS
      ? 'Link copied (synth and method; these parameters are too long for a link: export them as JSON)'
      : 'Link copied: it opens this synth, method and parameters.');
    return url;
  }

  Object.assign(s, { exportParams, exportWav, importParams, share });
}

// The parameter file dialog (#params-input, opened by the UI's Import button).
export function attachParamsInput(s) {
  const paramsInput = document.getElementById('params-input');
  paramsInput?.addEventListener('change', async () => {
    const f = paramsInput.files?.[0];
    paramsInput.value = '';
    if (f) s.importParams(await f.text()).catch(() => {});
  });
}
