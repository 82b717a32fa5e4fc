"""The JavaScript that tests/browser_check.py runs inside each page of the book (with
Playwright's ``page.evaluate``): wait for MathJax, list images, find a figure, draw and move the
interactive figures, add up the page's weight, inspect the text for faults, measure content cut
off at the window's width, read a solution dropdown's state. Then what tests/lab_check.py runs
in JupyterLab (``JS_LAB_*``): its notebook's cells, rendered, and their links.
Kept apart from the Python that drives the browser, so that each file reads as one thing."""

JS_WAIT_MATH = """async () => {
  if (!document.querySelector('.math')) return 'no math';
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup)) return 'MathJax never started';
  await MathJax.startup.promise;
  return 'typeset';
}"""

JS_IMAGES = """async () => {
  const imgs = [...document.images];
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 10000); })));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => img.getAttribute('src'));
}"""

JS_FIGURE = """name => {
  const fig = document.getElementById(name);
  return !!fig && ([...fig.querySelectorAll('img')].some(img => img.naturalWidth > 0)
                   || !!fig.querySelector('div.rnn-vega[data-drawn="yes"] svg'));
}"""

# The interactive figures (rnncourse.interactive): each div.rnn-vega drawn by rnn-vega.js
# (data-drawn "yes" or "failed"), with line paths in its SVG and a range slider that a reader
# moves. The slider is set as a user's drag sets it (value, then input and change events): to
# each end of the knob's grid (both must be reachable), then back to where it started; the
# line paths must change at the far end. Shared with tests/lab_check.py (JupyterLab draws the
# same spec with the same Vega-Embed, on a canvas: there the picture compared is the canvas's
# pixels): `selector` names the figures' boxes, `wait` how long (ms) they may take to draw,
# `marked` says whether rnn-vega.js marks them (data-drawn).
JS_VEGA = r"""async ({selector, wait, marked}) => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const until = async (test, ms) => {
    for (let t = 0; t < ms; t += 50) { if (test()) return true; await sleep(50); }
    return test();
  };
  const boxes = [...document.querySelectorAll(selector)];
  const canvas = b => [...b.querySelectorAll('canvas')].find(c => c.width > 0 && c.height > 0);
  const drawn = b => b.dataset.drawn === undefined
      ? (b.querySelector('svg g.mark-line path') || canvas(b) ? 'yes' : undefined)
      : b.dataset.drawn;
  // rnn-vega.js marks each box it starts drawing "pending" before the page's load event: once
  // none is pending, the others never will be drawn. Unmarked (JupyterLab): wait for lines.
  await until(() => boxes.every(b => marked ? b.dataset.drawn !== 'pending'
                                            : ['yes', 'failed'].includes(drawn(b))), wait);
  const svgLines = b => [...b.querySelectorAll('svg g.mark-line path')]
      .map(p => p.getAttribute('d') || '').filter(d => d.length > 1);
  const lines = b => svgLines(b).length ? svgLines(b) : canvas(b) ? [canvas(b).toDataURL()] : [];
  const set = (slider, v, events) => {
    slider.value = String(v);
    if (events) for (const kind of ['input', 'change'])
      slider.dispatchEvent(new Event(kind, {bubbles: true}));
    return +slider.value;
  };
  const out = [];
  for (const [i, b] of boxes.entries()) {
    const fig = b.closest('figure[id]');
    const name = fig ? fig.id : (b.getAttribute('aria-label') || '').slice(0, 60)
        || `interactive figure ${i + 1}`;
    const area = b.querySelector('svg, canvas');          // the figure's drawn width in pixels
    const r = {name, drawn: drawn(b) || 'not drawn', lines: lines(b).length,
               width: area ? Math.round(area.getBoundingClientRect().width) : 0,
               slider: null, ends: [], moved: null};
    const slider = b.querySelector('input[type="range"]');
    if (slider && r.drawn === 'yes' && r.lines) {
      const [lo, hi, start] = [+slider.min, +slider.max, +slider.value];
      const tol = Math.abs(hi - lo) * 1e-9;
      r.slider = {min: lo, max: hi, start, step: slider.step};
      for (const end of [lo, hi]) {          // reachable? (no events: nothing redrawn yet)
        const got = set(slider, end, false);
        if (Math.abs(got - end) > tol) r.ends.push([end, got]);
      }
      set(slider, start, false);
      const before = lines(b).join('|');
      const far = start - lo > hi - start ? lo : hi;
      r.to = set(slider, far, true);
      r.moved = await until(() => lines(b).join('|') !== before, 5000);
      set(slider, start, true);               // back where the reader found it
      await until(() => lines(b).join('|') === before, 2000);
    }
    out.push(r);
  }
  return out;
}"""

# The page's weight: the bytes of every response it received (the document, scripts, styles,
# fonts, images), as Chromium's resource timing counts them (a response served from the cache
# counts too: the weight is what a first visit downloads).
JS_WEIGHT = """() => {
  const entries = performance.getEntriesByType('navigation')
      .concat(performance.getEntriesByType('resource'));
  return {bytes: entries.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0),
          responses: entries.length};
}"""

JS_INSPECT = r"""() => {
  const exempt = el => el.closest('.tag_raises-exception');
  const math = [...document.querySelectorAll('.math')];
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const raw = [], rawTables = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    const m = n.data.match(/\\\(|\\\[|\$\$|\\begin\{|\$[^$\s][^$\n]*[^$\s\\]\$|\$[^$\s]\$/);
    if (m) raw.push(n.data.slice(Math.max(0, m.index - 30), m.index + 40).trim());
    // typography: --- may become an em dash
    const table = n.data.match(/\|\s*:?(-{3,}|[\u2013\u2014]-*):?\s*\|/);
    if (table) rawTables.push(n.data.slice(0, 80).trim());
  }
  const outputs = [...document.querySelectorAll('.cell_output')].filter(o => !exempt(o));
  const badOutputs = outputs.flatMap(o => [...o.querySelectorAll(
      '.output.traceback, .output.error, .output.stderr, .stderr')]).length;
  const debris = [];
  for (const o of outputs) {
    const t = o.innerText || '';
    for (const re of [/Traceback \(most recent call last\)/, /\.py:\d+: \w*Warning: /,
                      /\d+%\|[^|\n]*\|/]) {
      const m = t.match(re);
      if (m) debris.push(t.slice(Math.max(0, m.index - 20), m.index + 60).trim());
    }
  }
  // The same word twice in a row in the prose, e.g. "Exercise Exercise 1.4" where the text
  // names what a {ref} already renders. Per block, with math, code and outputs each read as
  // one placeholder, so "the product of $T$ of them" is no repeat. Not in the bibliography,
  // where a name can repeat.
  const doubled = [], blocks = new Map();
  const prose = document.querySelector('article.bd-article') || document.body;
  const blockOf = 'p, li, td, th, h1, h2, h3, h4, h5, h6, dt, dd, figcaption, caption';
  const opaque = skip + ', .math, .cell_output';
  let lastOpaque = null;
  const words = document.createTreeWalker(prose, NodeFilter.SHOW_TEXT);
  for (let n = words.nextNode(); n; n = words.nextNode()) {
    const block = n.parentElement.closest(blockOf);
    if (!block || block.closest('[role="doc-biblioentry"]')) continue;   // authors: Lu Lu
    const hidden = n.parentElement.closest(opaque);
    if (hidden && hidden === lastOpaque) continue;
    lastOpaque = hidden;
    blocks.set(block, (blocks.get(block) || '') + (hidden ? ' \u25af ' : n.data));
  }
  for (const t of blocks.values())
    for (const m of t.matchAll(/\b([A-Za-z]{2,})\s+\1\b/gi))
      doubled.push(t.slice(Math.max(0, m.index - 30), m.index + m[0].length + 20)
                    .replace(/\s+/g, ' ').trim());
  // An image a screen reader would announce by its file name: no alt text, or a path as one
  // (MyST-NB's default for a figure cell without mystnb.image.alt).
  const noAlt = [...document.images].filter(img => {
    const alt = (img.getAttribute('alt') || '').trim();
    return !alt || /\.(png|jpe?g|gif|svg|webp)$/i.test(alt);
  }).map(img => img.getAttribute('src'));
  return {
    math: math.length,
    displayMath: document.querySelectorAll('div.math').length,
    inlineMath: document.querySelectorAll('span.math').length,
    untypeset: math.filter(m => !m.querySelector('mjx-container'))
                   .map(m => m.textContent.slice(0, 60)),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 60)),
    raw, rawTables, badOutputs, debris, doubled, noAlt,
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
          .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  };
}"""

JS_OVERFLOW = r"""() => {
  // Open what a reader can open, so that its content is measured too.
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden button.toggle-button').forEach(b => b.click());
  const column = document.querySelector('article.bd-article') || document.querySelector('main')
      || document.body;
  // Math is measured by what MathJax draws (mjx-math): its hidden copy for screen readers
  // (mjx-assistive-mml) is wider than the drawing and would make every box look too small.
  const kinds = [['div.math mjx-math', 'display math'], ['span.math mjx-math', 'inline math'],
                 ['table', 'table'],
                 ['div.cell_output, div.output', 'cell output'], ['div.highlight, pre', 'code'],
                 ['figure', 'figure'], ['img', 'image']];
  const selector = kinds.map(k => k[0]).join(', ');
  const px = (s, k) => parseFloat(s[k]) || 0;
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const clips = el => ['hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const barShown = el => {      // a horizontal scrollbar drawn below the content (not overlaid)
    const s = getComputedStyle(el);
    return el.offsetHeight - el.clientHeight - px(s, 'borderTopWidth')
           - px(s, 'borderBottomWidth') >= 1;
  };
  const describe = el => {
    const kind = kinds.find(k => el.matches(k[0]))[1];
    let what = '';
    if (kind === 'display math') {
      const box = el.closest('div.math') || el;
      const eqno = box.querySelector('.eqno');
      what = [eqno && eqno.textContent.replace('#', '').trim(), box.id && '#' + box.id]
             .filter(Boolean).join(' ') || box.textContent.trim().slice(0, 40);
    } else if (kind === 'inline math') {
      what = (el.closest('span.math') || el).textContent.trim().slice(0, 40);
    } else if (kind === 'table') {
      const cap = el.querySelector('caption');
      what = (cap ? cap.textContent : el.innerText).trim().split('\n')[0].slice(0, 50);
    } else if (kind === 'image') {
      what = el.getAttribute('alt') || (el.getAttribute('src') || '').split('/').pop();
    } else {
      what = (el.innerText || el.textContent || '').trim().split('\n')[0].slice(0, 50);
    }
    return `${kind} ${JSON.stringify(what)}`;
  };
  const name = el => el === column ? 'the text column' : el.tagName.toLowerCase()
      + (el.id ? '#' + el.id : '') + [...el.classList].slice(0, 2).map(c => '.' + c).join('');
  const vw = document.documentElement.clientWidth;
  const found = [];
  [...column.querySelectorAll(selector)].forEach((el, index) => {
    if (found.some(f => f.el.contains(el)) || !el.checkVisibility()) return;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return;
    let right = r.right, by = null, how = '';
    if (el.scrollWidth > el.clientWidth + 1) {          // its content does not fit its box
      if (scrolls(el) && !barShown(el)) [by, how] = [el, 'scrolls but shows no scrollbar'];
      else if (clips(el)) [by, how] = [el, 'hides what does not fit'];
      else if (!scrolls(el)) right = Math.max(right, r.left + el.scrollWidth);
    }
    let reachable = false;
    for (let a = el.parentElement; a && !by; a = a.parentElement) {
      const ar = a.getBoundingClientRect();
      const out = right > ar.right + 1 || r.left < ar.left - 1;
      if (scrolls(a) && out) {
        if (!barShown(a)) [by, how] = [a, 'scrolls but shows no scrollbar'];
        else reachable = true;
        break;
      }
      if (out && clips(a)) [by, how] = [a, 'hides what does not fit'];
      else if (out && a === column) [by, how] = [a, 'sticks out of it'];
      if (a === column) break;
    }
    if (!by && !reachable && (right > vw + 1 || r.left < -1)) {
      [by, how] = [document.documentElement, 'runs off the screen'];
    }
    if (by) {
      const box = by.getBoundingClientRect();
      const inner = by === el;                        // the element itself scrolls or clips
      found.push({el, index, what: describe(el), how,
                  width: Math.round(inner ? el.scrollWidth : right - r.left),
                  room: Math.round(inner ? el.clientWidth : Math.min(box.width, vw)),
                  by: by === document.documentElement ? 'the window' : name(by)});
    }
  });
  return found.map(({el, ...rest}) => rest);
}"""


JS_SOLUTION_STATE = """el => {
  const body = [...el.children].filter(c => !c.classList.contains('admonition-title'));
  return body.length > 0 && body.every(c => c.offsetHeight > 0 &&
      c.checkVisibility({visibilityProperty: true, opacityProperty: true}));
}"""

# tests/lab_check.py: every cell of the notebook JupyterLab shows: its kind, its rendered
# Markdown as text (math left out; with and without code), directive fences that became code
# blocks, its images and Vega outputs.
JS_LAB_CELLS = r"""() => {
  const RENDERED = '.jp-RenderedMarkdown, .myst', MATH = 'mjx-container, .MathJax, .katex';
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!panel) return null;
  const block = 'p, li, h1, h2, h3, h4, h5, h6, pre, td, th, blockquote, div';
  const read = (root, skip) => {
    let out = '', last = null;
    const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      if (n.parentElement.closest(skip)) continue;
      const b = n.parentElement.closest(block);
      if (b !== last && out) out += '\n';
      last = b;
      out += n.data;
    }
    return out;
  };
  return [...panel.querySelectorAll('.jp-Cell')].map(c => {
    const md = c.classList.contains('jp-MarkdownCell') ? c.querySelector(RENDERED) : null;
    return {
      kind: c.classList.contains('jp-MarkdownCell') ? 'markdown'
          : c.classList.contains('jp-CodeCell') ? 'code' : 'raw',
      rendered: !!md,
      text: md ? read(md, MATH + ', script, style') : '',
      prose: md ? read(md, MATH + ', script, style, code, pre') : '',
      fences: md ? [...md.querySelectorAll('code[class*="language-{"]')]
                      .map(e => e.className.match(/language-(\{\S*)/)[1]) : [],
      images: [...c.querySelectorAll('.jp-OutputArea-output img')].map(i => ({
          src: (i.getAttribute('src') || '').slice(0, 40),
          shown: i.complete && i.naturalWidth > 0 && i.checkVisibility()})),
      vega: c.querySelectorAll('.jp-OutputArea-output.jp-RenderedVegaLite').length,
    };
  });
}"""


# tests/lab_check.py: whether the notebook shown has its cells, and the Markdown cells of the
# given indexes (those with a source) their rendered content (JupyterLab fills a rendered cell
# after creating it).
JS_LAB_READY = """([n, texts]) => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const cells = panel ? [...panel.querySelectorAll('.jp-Cell')] : [];
  return cells.length >= n && texts.every(i => {
    const md = cells[i].querySelector('.jp-RenderedMarkdown, .myst');   // plain, jupyterlab-myst
    return md && (md.textContent.trim() || md.querySelector('img'));
  });
}"""


# tests/lab_check.py: the links of the rendered Markdown (jupyterlab-myst turns roles into
# links to their targets in the notebook): [href, text].
JS_LAB_LINKS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
    + '.jp-MarkdownCell :is(.myst, .jp-RenderedMarkdown) a[href]')]
  .map(a => [a.getAttribute('href'), a.textContent.trim().slice(0, 40)])"""
