// The tutorial book's page script: contents bar, previous/next links, light/dark switch and lazy
// widgets. Every link is relative, so the book works from any sub-path or a copied folder.
//
// A widget is written in a chapter as
//   <div class="widget" data-src="../embed.html?synth=sine&..." data-title="..."></div>
// and becomes an <iframe> of the compact studio only when it is scrolled near the viewport: a
// chapter with four widgets starts no engine until the reader gets there. Each widget's progress
// (embed.html posts {source: 'ddsp', type: 'ready'|'progress'|'done'|'error'}) is shown under it
// and kept in window.book.widgets for tests.

export const CHAPTERS = [
  ['01-differentiable-synthesis.html', 'Why differentiable synthesis'],
  ['02-spectral-losses.html', 'Spectral losses'],
  ['03-filters.html', 'Filters and the all-pole recursion'],
  ['04-karplus-strong.html', 'Karplus-Strong: a string you can differentiate'],
  ['05-harmonic-plus-noise.html', 'Harmonic plus noise (DDSP)'],
  ['06-drums.html', 'Drums'],
  ['07-latent-space.html', 'A latent space of instruments'],
];

const here = decodeURIComponent(location.pathname.split('/').pop() || 'index.html');

function topBar() {
  const bar = document.createElement('div');
  bar.className = 'book-top';
  const home = document.createElement('a');
  home.href = 'index.html';
  home.textContent = 'ddsp.cpp book: contents';
  const theme = document.createElement('button');
  theme.type = 'button';
  const current = () => document.documentElement.dataset.theme ||
    (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const label = () => { theme.textContent = current() === 'dark' ? 'Light' : 'Dark'; };
  theme.addEventListener('click', () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem('ddsp-book-theme', next); } catch { /* storage blocked: this page only */ }
    label();
  });
  label();
  bar.append(home, theme);
  document.body.prepend(bar);
}

function chapterNav() {
  const i = CHAPTERS.findIndex(([file]) => file === here);
  if (i < 0) return;
  const nav = document.createElement('nav');
  nav.className = 'chapter-nav';
  nav.setAttribute('aria-label', 'chapters');
  const link = (k, prefix) => {
    const a = document.createElement('a');
    if (k < 0) { a.href = 'index.html'; a.textContent = '← Contents'; return a; }
    if (k >= CHAPTERS.length) { a.href = 'index.html'; a.textContent = 'Contents →'; return a; }
    a.href = CHAPTERS[k][0];
    a.textContent = prefix === 'prev' ? `← ${k + 1}. ${CHAPTERS[k][1]}` : `${k + 1}. ${CHAPTERS[k][1]} →`;
    a.rel = prefix;
    return a;
  };
  nav.append(link(i - 1, 'prev'), link(i + 1, 'next'));
  document.querySelector('main')?.append(nav);
}

// [SECTION] widgets

const widgets = [];  // {id, src, state, iteration, bestLoss, message, frame}

function describe(w) {
  switch (w.state) {
    case 'waiting': return 'Loads when you scroll here.';
    case 'loading': return 'Loading the engine…';
    case 'ready': return 'Ready: press Match in the widget (or change the synth, method or loss first).';
    case 'running': return `iteration ${w.iteration}, best loss ${Number(w.bestLoss).toPrecision(4)}`;
    case 'done': return `done: iteration ${w.iteration}, best loss ${Number(w.bestLoss).toPrecision(4)}`;
    default: return `error: ${w.message}`;
  }
}

function load(w) {
  if (w.frame) return w.frame;
  const frame = document.createElement('iframe');
  frame.className = 'widget-frame';
  frame.title = w.title;
  frame.name = w.id;  // (tests find the frame by it)
  frame.src = w.src;
  frame.setAttribute('allow', 'autoplay; microphone');
  w.placeholder.replaceWith(frame);
  w.frame = frame;
  w.state = 'loading';
  w.log.textContent = describe(w);
  return frame;
}

// data-choose="loss=mrstft,linear,diffks,timbre": a menu above the widget that reloads it with another
// value of one query parameter (the compact widget itself offers only synth and method).
function chooser(w, spec) {
  const [key, list] = spec.split('=');
  const values = (list || '').split(',').filter(Boolean);
  const label = document.createElement('label');
  label.className = 'widget-choose';
  label.textContent = `${key}: `;
  const select = document.createElement('select');
  const url = new URL(w.src, location.href);
  for (const v of values) select.add(new Option(v, v, false, url.searchParams.get(key) === v));
  select.addEventListener('change', () => {
    const next = new URL(w.src, location.href);
    next.searchParams.set(key, select.value);
    next.searchParams.set('autostart', '1');  // the reader asked for it: match straight away
    w.src = `${w.src.split('?')[0]}?${next.searchParams}`;
    Object.assign(w, { state: 'waiting', iteration: 0, bestLoss: null, message: '' });
    if (w.frame) { w.frame.src = w.src; w.state = 'loading'; }
    w.log.textContent = describe(w);
  });
  label.append(select);
  return label;
}

function setUpWidgets() {
  const nodes = [...document.querySelectorAll('.widget[data-src]')];
  nodes.forEach((node, k) => {
    const placeholder = document.createElement('div');
    placeholder.className = 'widget-frame widget-placeholder';
    placeholder.textContent = node.dataset.title || 'widget';
    const log = document.createElement('div');
    log.className = 'widget-log';
    log.setAttribute('aria-live', 'polite');
    node.append(placeholder, log);
    const w = { id: node.id || `widget-${k + 1}`, src: node.dataset.src, title: node.dataset.title || 'ddsp.cpp widget',
                state: 'waiting', iteration: 0, bestLoss: null, message: '', frame: null, placeholder, log, node };
    log.textContent = describe(w);
    widgets.push(w);
    if (node.dataset.choose) node.prepend(chooser(w, node.dataset.choose));
  });
  if ('IntersectionObserver' in window) {
    const io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        const w = widgets.find((x) => x.node === e.target);
        if (w) { load(w); io.unobserve(e.target); }
      }
    }, { rootMargin: '200px 0px' });
    widgets.forEach((w) => io.observe(w.node));
  } else {
    widgets.forEach(load);
  }
  window.addEventListener('message', (e) => {
    const m = e.data;
    if (!m || m.source !== 'ddsp') return;
    const w = widgets.find((x) => x.frame && x.frame.contentWindow === e.source);
    if (!w) return;
    if (m.type === 'ready') w.state = w.state === 'loading' ? 'ready' : w.state;
    else if (m.type === 'progress') Object.assign(w, { state: 'running', iteration: m.iteration, bestLoss: m.bestLoss });
    else if (m.type === 'done') Object.assign(w, { state: 'done', iteration: m.iteration, bestLoss: m.bestLoss });
    else if (m.type === 'error') Object.assign(w, { state: 'error', message: String(m.message ?? 'unknown error') });
    w.log.classList.toggle('error', w.state === 'error');
    w.log.textContent = describe(w);
  });
}

// What tests (and curious readers) can see: each widget's state, and a way to load one now.
window.book = {
  widgets: () => widgets.map(({ id, src, state, iteration, bestLoss, message }) => ({ id, src, state, iteration, bestLoss, message })),
  load: (id) => { const w = widgets.find((x) => x.id === id); return w ? load(w) : null; },
  frame: (id) => widgets.find((x) => x.id === id)?.frame ?? null,
};

try {
  const saved = localStorage.getItem('ddsp-book-theme');
  if (saved === 'dark' || saved === 'light') document.documentElement.dataset.theme = saved;
} catch { /* storage blocked */ }
topBar();
chapterNav();
setUpWidgets();
