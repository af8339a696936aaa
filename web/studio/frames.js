// UI frame pacing. The UI module draws on every animation frame. Where WebGL is rendered in software
// (SwiftShader or llvmpipe: headless Chromium, machines without a usable GPU) a frame of the
// full-size studio costs ~80 ms of CPU in the GPU process (1400 x 860 pixels; it scales with the
// pixels) and ~20 ms on the page's main thread, so the drawing takes as much of the CPU as it can get
// and, on a two-core machine, slows the worker's matching by competing for its core (measured with
// tests/bench/bench_web.mjs: a ks iteration took 1.8-2.9x its time under node in the studio at full
// rate, 1.3-1.4x at 5 frames/s, 1.1-1.35x at 3; the CPU the iteration itself costs is the same).
// The worker's progress arrives at most 20 times a second, so while it matches the UI draws at most
// BUSY_FPS frames a second (SOFTWARE_BUSY_FPS in software), except just after the user touches the
// page, when it draws at full rate so that dragging and typing stay smooth. Idle, and while
// fine-tuning (a step is ~0.1 s; the latent panel's curve is drawn as before), nothing changes.
// (Emscripten's main loop skips a frame when Module.preMainLoop returns false.)

const BUSY_FPS = 20;  // the progress rate: more frames would show nothing new
const SOFTWARE_BUSY_FPS = 3;
const INPUT_FULL_RATE_MS = 500;

// True when the UI's WebGL context is rendered by the CPU.
export function softwareGl(canvas) {
  try {
    const gl = canvas.getContext('webgl2');  // the UI module's context (the same type returns it, no new one)
    if (!gl) return false;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
  } catch {
    return false;
  }
}

export function paceFrames(s, canvas) {
  const minFrameMs = 1000 / (softwareGl(canvas) ? SOFTWARE_BUSY_FPS : BUSY_FPS) - 2;  // 2 ms: rAF jitter
  let lastFrameT = 0, inputUntil = 0;
  const touched = () => { inputUntil = performance.now() + INPUT_FULL_RATE_MS; };
  for (const ev of ['pointerdown', 'pointermove', 'wheel']) canvas.addEventListener(ev, touched, { passive: true });
  window.addEventListener('keydown', touched, { capture: true, passive: true });
  s.ui.preMainLoop = () => {
    const now = performance.now();
    if (s.state.running && now >= inputUntil && now - lastFrameT < minFrameMs) return false;
    lastFrameT = now;
    return true;
  };
}
