/* The page script of aekit's explorer (aekit.viz.explore): inlined into every page it writes,
 * so a page works from disk with no network. Plain JavaScript and one 2-D canvas: see the
 * module docstring of explore.py for why no plotting library.
 *
 * The payload (a JSON script element written by explore.py) holds the 2-D positions, labels,
 * image sprites (PNG), and, when the size budget allows, the codes and the decoder's layers,
 * which `makeDecoder` runs here: reconstructions and decoded paths are computed in the page.
 * The same file runs under node (module.exports) so the tests can check the decoder against
 * PyTorch.
 */
(function () {
  "use strict";

  // Payload decoding and the decoder: shared with the node test ---------------------------

  function bytesFromBase64(text) {
    if (typeof atob !== "function") {
      return new Uint8Array(Buffer.from(text, "base64"));
    }
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // Little-endian arrays, as numpy's "<f4" and "<i4" write them; a fresh buffer is aligned.
  function float32s(text) {
    const b = bytesFromBase64(text);
    return new Float32Array(b.buffer, 0, b.length >> 2);
  }

  function int32s(text) {
    const b = bytesFromBase64(text);
    return new Int32Array(b.buffer, 0, b.length >> 2);
  }

  function activate(h, name) {
    const n = h.length;
    if (name === "linear") return h;
    if (name === "logistic" || name === "sigmoid") {
      for (let i = 0; i < n; i++) h[i] = 1 / (1 + Math.exp(-h[i]));
    } else if (name === "relu") {
      for (let i = 0; i < n; i++) h[i] = h[i] > 0 ? h[i] : 0;
    } else if (name === "elu") {
      for (let i = 0; i < n; i++) h[i] = h[i] > 0 ? h[i] : Math.expm1(h[i]);
    } else if (name === "tanh") {
      for (let i = 0; i < n; i++) h[i] = Math.tanh(h[i]);
    } else if (name === "exp") {
      for (let i = 0; i < n; i++) h[i] = Math.exp(h[i]);
    } else if (name === "softmax") {
      let m = -Infinity;
      for (let i = 0; i < n; i++) m = Math.max(m, h[i]);
      let s = 0;
      for (let i = 0; i < n; i++) s += h[i] = Math.exp(h[i] - m);
      for (let i = 0; i < n; i++) h[i] /= s;
    } else {
      throw new Error("unknown activation " + name);
    }
    return h;
  }

  // spec.layers[k]: {weight: base64 float32 (n_out, n_in) row-major, bias, n_in, n_out,
  // activation}. Sums run in float64 (JavaScript numbers), the weights are float32 as saved.
  function makeDecoder(spec) {
    const layers = spec.layers.map(function (l) {
      return {
        w: float32s(l.weight),
        b: float32s(l.bias),
        nIn: l.n_in,
        nOut: l.n_out,
        act: l.activation,
      };
    });
    return function decode(z) {
      let h = Float64Array.from(z);
      for (const L of layers) {
        const out = new Float64Array(L.nOut);
        for (let o = 0; o < L.nOut; o++) {
          const row = o * L.nIn;
          let s = L.b[o];
          for (let i = 0; i < L.nIn; i++) s += L.w[row + i] * h[i];
          out[o] = s;
        }
        h = activate(out, L.act);
      }
      return h;
    };
  }

  // Codes on the segment from a to b, both ends included (viz.generative.interpolation_codes).
  function segment(a, b, nSteps) {
    const out = [];
    for (let s = 0; s < nSteps; s++) {
      const t = nSteps === 1 ? 0 : s / (nSteps - 1);
      const z = new Float64Array(a.length);
      for (let j = 0; j < a.length; j++) z[j] = (1 - t) * a[j] + t * b[j];
      out.push(z);
    }
    return out;
  }

  if (typeof module === "object" && module.exports) {
    module.exports = { bytesFromBase64, float32s, int32s, makeDecoder, segment };
    return;
  }

  // The page --------------------------------------------------------------------------------

  const api = { ready: false, errors: [], hovered: -1, picked: [], pathSteps: 0 };
  window.aekitExplorer = api;

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function loadSprite(spec) {
    if (!spec) return Promise.resolve(null);
    const img = new Image();
    img.src = "data:image/png;base64," + spec.png;
    return img.decode().then(function () {
      return { img: img, cols: spec.cols, h: spec.h, w: spec.w, count: spec.count };
    });
  }

  // Draw image k of a sprite into rectangle (x, y, w, h) of a 2-D context.
  function drawCell(ctx, sprite, k, x, y, w, h) {
    const r = Math.floor(k / sprite.cols);
    const c = k % sprite.cols;
    ctx.drawImage(sprite.img, c * sprite.w, r * sprite.h, sprite.w, sprite.h, x, y, w, h);
  }

  function cellCanvas(sprite, k, scale, cls) {
    const cv = el("canvas", { width: sprite.w * scale, height: sprite.h * scale, class: cls });
    const ctx = cv.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    drawCell(ctx, sprite, k, 0, 0, cv.width, cv.height);
    return cv;
  }

  // A decoded vector as a grey image, with the grey scale of the data (explore.py's `grey`).
  function vectorCanvas(values, shape, grey, scale, cls) {
    const h = shape[0];
    const w = shape[1];
    const small = el("canvas", { width: w, height: h });
    const sctx = small.getContext("2d");
    const im = sctx.createImageData(w, h);
    const span = grey.hi - grey.lo || 1;
    for (let i = 0; i < h * w; i++) {
      let g = (values[i] - grey.lo) / span;
      g = g < 0 ? 0 : g > 1 ? 1 : g;
      const v = Math.round(255 * (1 - g)); // ink is dark, as the report's gray_r
      im.data[4 * i] = im.data[4 * i + 1] = im.data[4 * i + 2] = v;
      im.data[4 * i + 3] = 255;
    }
    sctx.putImageData(im, 0, 0);
    const cv = el("canvas", { width: w * scale, height: h * scale, class: cls });
    const ctx = cv.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, cv.width, cv.height);
    return cv;
  }

  // A non-image vector as a line chart (input and reconstruction on one scale).
  function lineChart(series, colours, width, height) {
    const cv = el("canvas", { width: width, height: height, class: "chart" });
    const ctx = cv.getContext("2d");
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of series) for (const v of s) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    const span = hi - lo || 1;
    series.forEach(function (s, k) {
      ctx.strokeStyle = colours[k];
      ctx.beginPath();
      for (let i = 0; i < s.length; i++) {
        const x = (i / Math.max(s.length - 1, 1)) * (width - 4) + 2;
        const y = height - 2 - ((s[i] - lo) / span) * (height - 4);
        i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      }
      ctx.stroke();
    });
    return cv;
  }

  function topWords(dist, vocabulary, k) {
    const idx = Array.from(dist.keys());
    idx.sort(function (a, b) {
      return dist[b] - dist[a];
    });
    return idx.slice(0, k).map(function (i) {
      return vocabulary[i];
    });
  }

  function start(P) {
    const n = P.n;
    const pos = float32s(P.positions); // (n, 2)
    const labels = P.labels ? int32s(P.labels) : null;
    const codes = P.codes ? float32s(P.codes) : null; // (n, code_dim)
    const d = P.code_dim;
    const decode = P.decoder ? makeDecoder(P.decoder) : null;
    const inputs = P.vectors ? float32s(P.vectors) : null; // (n, n_features), non-image data
    const anchors = P.anchors ? int32s(P.anchors) : null;
    const neighbours = P.neighbours ? int32s(P.neighbours) : null; // (n, k)
    const priorPos = P.prior_positions ? float32s(P.prior_positions) : null;
    const canvas = $("map");
    const ctx = canvas.getContext("2d");
    const W = canvas.width;
    const H = canvas.height;
    const margin = { left: 46, right: 12, top: 12, bottom: 40 };
    const colours = P.colours;
    let showManifold = false;
    let showPrior = false;
    let drag = null; // a press on the map: {px, py, view, moved}
    const sprites = {};
    const byColour = {}; // label -> its points, so each colour is one path to fill
    let nClasses = 0;
    for (let i = 0; i < n; i++) {
      const c = labels ? labels[i] : 0;
      (byColour[c] = byColour[c] || []).push(i);
      nClasses = Math.max(nClasses, c + 1);
    }

    // Data bounds, padded; the view maps them onto the plot area and zoom/pan move it.
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, pos[2 * i]);
      x1 = Math.max(x1, pos[2 * i]);
      y0 = Math.min(y0, pos[2 * i + 1]);
      y1 = Math.max(y1, pos[2 * i + 1]);
    }
    if (P.manifold) {
      const e = P.manifold.edges;
      x0 = Math.min(x0, e.x[0]);
      x1 = Math.max(x1, e.x[e.x.length - 1]);
      y0 = Math.min(y0, e.y[0]);
      y1 = Math.max(y1, e.y[e.y.length - 1]);
    }
    const padX = (x1 - x0) * 0.04 || 1;
    const padY = (y1 - y0) * 0.04 || 1;
    const home = { x0: x0 - padX, x1: x1 + padX, y0: y0 - padY, y1: y1 + padY };
    let view = Object.assign({}, home);

    function sx(x) {
      return margin.left + ((x - view.x0) / (view.x1 - view.x0)) * (W - margin.left - margin.right);
    }
    function sy(y) {
      return H - margin.bottom - ((y - view.y0) / (view.y1 - view.y0)) * (H - margin.top - margin.bottom);
    }
    function dataX(px) {
      return view.x0 + ((px - margin.left) / (W - margin.left - margin.right)) * (view.x1 - view.x0);
    }
    function dataY(py) {
      return view.y0 + ((H - margin.bottom - py) / (H - margin.top - margin.bottom)) * (view.y1 - view.y0);
    }

    // Canvas pixels from a mouse event (the canvas may be shown scaled by CSS).
    function eventXY(ev) {
      const r = canvas.getBoundingClientRect();
      return [((ev.clientX - r.left) * W) / r.width, ((ev.clientY - r.top) * H) / r.height];
    }

    api.screenPosition = function (i) {
      // CSS pixels relative to the canvas's top-left corner (what a test's mouse needs).
      const r = canvas.getBoundingClientRect();
      return [(sx(pos[2 * i]) * r.width) / W, (sy(pos[2 * i + 1]) * r.height) / H];
    };
    api.n = n;

    function nearest(px, py, only) {
      let best = -1;
      let bestD = 10 * 10; // within 10 canvas pixels
      const candidates = only || null;
      const m = candidates ? candidates.length : n;
      for (let k = 0; k < m; k++) {
        const i = candidates ? candidates[k] : k;
        const dx = sx(pos[2 * i]) - px;
        const dy = sy(pos[2 * i + 1]) - py;
        const dd = dx * dx + dy * dy;
        if (dd < bestD) (bestD = dd), (best = i);
      }
      return best;
    }

    function ticks(a, b) {
      const step0 = (b - a) / 5;
      const p = Math.pow(10, Math.floor(Math.log10(step0)));
      const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= step0) || step0;
      const out = [];
      for (let t = Math.ceil(a / step) * step; t <= b; t += step) out.push(t);
      return out;
    }

    function drawAxes() {
      ctx.strokeStyle = "#999";
      ctx.lineWidth = 1;
      ctx.strokeRect(margin.left, margin.top, W - margin.left - margin.right, H - margin.top - margin.bottom);
      ctx.fillStyle = "#444";
      ctx.font = "11px sans-serif";
      ctx.textAlign = "center";
      for (const t of ticks(view.x0, view.x1)) {
        const x = sx(t);
        ctx.fillText(+t.toPrecision(3), x, H - margin.bottom + 14);
      }
      ctx.fillText(P.axes[0], margin.left + (W - margin.left - margin.right) / 2, H - 8);
      ctx.textAlign = "right";
      for (const t of ticks(view.y0, view.y1)) ctx.fillText(+t.toPrecision(3), margin.left - 4, sy(t) + 4);
      ctx.save();
      ctx.translate(12, margin.top + (H - margin.top - margin.bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText(P.axes[1], 0, 0);
      ctx.restore();
    }

    function drawManifold() {
      const M = P.manifold;
      const s = sprites.manifold;
      ctx.globalAlpha = 0.9;
      ctx.imageSmoothingEnabled = true;
      const nx = M.edges.x.length - 1;
      const ny = M.edges.y.length - 1;
      for (let r = 0; r < ny; r++) {
        for (let c = 0; c < nx; c++) {
          // Row 0 of the sprite is the largest z2 (image order), so it sits at the top.
          const xa = sx(M.edges.x[c]);
          const xb = sx(M.edges.x[c + 1]);
          const ya = sy(M.edges.y[ny - r]);
          const yb = sy(M.edges.y[ny - r - 1]);
          drawCell(ctx, s, r * nx + c, xa, ya, xb - xa, yb - ya);
        }
      }
      ctx.globalAlpha = 1;
    }

    function draw() {
      ctx.clearRect(0, 0, W, H);
      ctx.save();
      ctx.beginPath();
      ctx.rect(margin.left, margin.top, W - margin.left - margin.right, H - margin.top - margin.bottom);
      ctx.clip();
      if (showManifold && sprites.manifold) drawManifold();
      const r = n > 3000 ? 1.6 : n > 500 ? 2.4 : 3.5;
      ctx.globalAlpha = showManifold ? 0.55 : 0.85;
      for (const c in byColour) {
        ctx.fillStyle = colours[c % colours.length];
        ctx.beginPath();
        for (const i of byColour[c]) {
          const x = sx(pos[2 * i]);
          const y = sy(pos[2 * i + 1]);
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, 2 * Math.PI);
        }
        ctx.fill();
      }
      ctx.globalAlpha = 1;
      if (showPrior && priorPos) {
        ctx.strokeStyle = "#222";
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (let k = 0; k < priorPos.length / 2; k++) {
          const x = sx(priorPos[2 * k]);
          const y = sy(priorPos[2 * k + 1]);
          ctx.moveTo(x - 3, y);
          ctx.lineTo(x + 3, y);
          ctx.moveTo(x, y - 3);
          ctx.lineTo(x, y + 3);
        }
        ctx.stroke();
      }
      if (anchors && !decode) {
        ctx.strokeStyle = "#555";
        ctx.lineWidth = 1;
        for (const i of anchors) {
          ctx.beginPath();
          ctx.arc(sx(pos[2 * i]), sy(pos[2 * i + 1]), 6, 0, 2 * Math.PI);
          ctx.stroke();
        }
      }
      if (api.picked.length === 2) {
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        const [a, b] = api.picked;
        ctx.moveTo(sx(pos[2 * a]), sy(pos[2 * a + 1]));
        ctx.lineTo(sx(pos[2 * b]), sy(pos[2 * b + 1]));
        ctx.stroke();
      }
      for (const i of api.picked) {
        ctx.strokeStyle = "#000";
        ctx.fillStyle = "#fff";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(sx(pos[2 * i]), sy(pos[2 * i + 1]), 6, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
      if (api.hovered >= 0) {
        const i = api.hovered;
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.arc(sx(pos[2 * i]), sy(pos[2 * i + 1]), 7, 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.restore();
      drawAxes();
    }

    function code(i) {
      return codes.subarray(i * d, (i + 1) * d);
    }

    function labelName(i) {
      if (!labels) return "";
      const c = labels[i];
      return P.label_names ? P.label_names[c] : String(c);
    }

    function documentBlock(i) {
      const box = el("div", { class: "doc" });
      box.appendChild(el("p", { class: "group" }, labelName(i)));
      box.appendChild(el("p", { class: "words" }, P.texts[i]));
      if (neighbours) {
        const k = P.n_neighbours;
        box.appendChild(el("p", { class: "sub" }, "nearest documents (cosine of codes):"));
        const ol = el("ol", { class: "neighbours" });
        for (let j = 0; j < k; j++) {
          const o = neighbours[i * k + j];
          ol.appendChild(el("li", {}, "[" + labelName(o) + "] " + P.texts[o].slice(0, 90)));
        }
        box.appendChild(ol);
      }
      return box;
    }

    function showPoint(i) {
      const info = $("hover-info");
      const box = $("hover-body");
      box.textContent = "";
      info.textContent =
        "point " + i + (P.ids ? " (" + P.ids[i] + ")" : "") + (labels ? ", label " + labelName(i) : "");
      if (P.texts) {
        box.appendChild(documentBlock(i));
        return;
      }
      const scale = P.image_scale;
      const fig = function (node, caption) {
        const f = el("figure");
        f.appendChild(node);
        f.appendChild(el("figcaption", {}, caption));
        box.appendChild(f);
      };
      if (sprites.inputs) {
        fig(cellCanvas(sprites.inputs, i, scale, "hover-input"), "input");
        if (decode) {
          fig(vectorCanvas(decode(code(i)), P.image_shape, P.grey, scale, "hover-recon"), "reconstruction");
        } else if (sprites.recons) {
          fig(cellCanvas(sprites.recons, i, scale, "hover-recon"), "reconstruction");
        }
      } else if (inputs) {
        const m = P.n_features;
        const x = inputs.subarray(i * m, (i + 1) * m);
        const series = [x];
        if (decode) series.push(decode(code(i)));
        fig(lineChart(series, ["#1f77b4", "#d62728"], 300, 110), "input (blue), reconstruction (red)");
      }
    }

    function pairIndex(a, b) {
      // Pairs of anchors (ka < kb) in row-major order of the upper triangle.
      let ka = Array.prototype.indexOf.call(anchors, a);
      let kb = Array.prototype.indexOf.call(anchors, b);
      let flip = false;
      if (ka > kb) ([ka, kb] = [kb, ka]), (flip = true);
      const K = anchors.length;
      return { p: ka * K - (ka * (ka + 1)) / 2 + (kb - ka - 1), flip: flip };
    }

    function showPath() {
      const strip = $("path-strip");
      strip.textContent = "";
      const [a, b] = api.picked;
      const steps = P.n_steps;
      const scale = P.path_scale;
      let drawn = 0;
      const add = function (node) {
        strip.appendChild(node);
        drawn += 1;
      };
      if (decode) {
        for (const z of segment(code(a), code(b), steps)) {
          const out = decode(z);
          if (P.vocabulary) add(el("div", { class: "step" }, topWords(out, P.vocabulary, 6).join(" ")));
          else if (P.image_shape) add(vectorCanvas(out, P.image_shape, P.grey, scale, "step"));
          else add(lineChart([out], ["#d62728"], 120, 50));
        }
      } else {
        const { p, flip } = pairIndex(a, b);
        for (let s = 0; s < steps; s++) {
          const k = p * steps + (flip ? steps - 1 - s : s);
          if (P.path_words) add(el("div", { class: "step" }, P.path_words[k].join(" ")));
          else add(cellCanvas(sprites.paths, k, scale, "step"));
        }
      }
      $("path-info").textContent =
        "Decoded codes on the segment from point " + a + " to point " + b + " (" + steps + " steps" +
        (decode ? ", decoded in this page" : ", precomputed") + "):";
      api.pathSteps = drawn;
    }

    function clearPath() {
      api.picked = [];
      api.pathSteps = 0;
      $("path-strip").textContent = "";
      $("path-info").textContent = P.path_hint;
      draw();
    }

    canvas.addEventListener("mousemove", function (ev) {
      const [px, py] = eventXY(ev);
      if (drag) {
        const dx = ((px - drag.px) / (W - margin.left - margin.right)) * (drag.view.x1 - drag.view.x0);
        const dy = ((py - drag.py) / (H - margin.top - margin.bottom)) * (drag.view.y1 - drag.view.y0);
        view = { x0: drag.view.x0 - dx, x1: drag.view.x1 - dx, y0: drag.view.y0 + dy, y1: drag.view.y1 + dy };
        if (Math.abs(px - drag.px) + Math.abs(py - drag.py) > 3) drag.moved = true;
        draw();
        return;
      }
      const i = nearest(px, py);
      if (i !== api.hovered) {
        api.hovered = i;
        if (i >= 0) showPoint(i);
        draw();
      }
    });
    canvas.addEventListener("mousedown", function (ev) {
      const [px, py] = eventXY(ev);
      drag = { px: px, py: py, view: Object.assign({}, view), moved: false };
    });
    window.addEventListener("mouseup", function (ev) {
      if (!drag) return;
      const moved = drag.moved;
      drag = null;
      if (moved || ev.target !== canvas) return;
      const [px, py] = eventXY(ev);
      const i = nearest(px, py, decode ? null : anchors);
      if (i < 0) return;
      if (api.picked.length === 2) api.picked = [];
      if (api.picked.length === 1 && api.picked[0] === i) return;
      api.picked.push(i);
      if (api.picked.length === 2) showPath();
      else $("path-info").textContent = "Point " + i + " picked; click a second point.";
      draw();
    });
    canvas.addEventListener(
      "wheel",
      function (ev) {
        ev.preventDefault();
        const [px, py] = eventXY(ev);
        const f = Math.exp(ev.deltaY * 0.001);
        const cx = dataX(px);
        const cy = dataY(py);
        view = {
          x0: cx - (cx - view.x0) * f,
          x1: cx + (view.x1 - cx) * f,
          y0: cy - (cy - view.y0) * f,
          y1: cy + (view.y1 - cy) * f,
        };
        draw();
      },
      { passive: false }
    );
    $("reset-view").addEventListener("click", function () {
      view = Object.assign({}, home);
      draw();
    });
    $("clear-path").addEventListener("click", clearPath);
    const manifoldBox = $("show-manifold");
    if (P.manifold) {
      manifoldBox.addEventListener("change", function () {
        showManifold = manifoldBox.checked;
        api.manifoldShown = showManifold;
        draw();
      });
    } else {
      $("manifold-control").style.display = "none";
    }
    const priorBox = $("show-prior");
    if (priorPos) {
      priorBox.addEventListener("change", function () {
        showPrior = priorBox.checked;
        draw();
      });
    } else {
      $("prior-control").style.display = "none";
    }

    function legend() {
      const box = $("legend");
      if (!labels) return;
      const names = P.label_names || [];
      const m = Math.max(names.length, nClasses);
      for (let c = 0; c < m; c++) {
        const item = el("span", { class: "key" });
        const dot = el("span", { class: "dot" });
        dot.style.background = colours[c % colours.length];
        item.appendChild(dot);
        item.appendChild(document.createTextNode(names[c] !== undefined ? names[c] : String(c)));
        box.appendChild(item);
      }
    }

    function grid(sectionId, sprite, scale) {
      const box = $(sectionId + "-grid");
      for (let k = 0; k < sprite.count; k++) box.appendChild(cellCanvas(sprite, k, scale, "tile"));
      $(sectionId).style.display = "";
    }

    const names = ["inputs", "recons", "manifold", "prior", "filters", "paths"];
    return Promise.all(names.map((k) => loadSprite(P.sprites[k]))).then(function (loaded) {
      names.forEach((k, j) => (sprites[k] = loaded[j]));
      legend();
      if (sprites.prior) grid("prior", sprites.prior, P.tile_scale);
      if (sprites.filters) grid("filters", sprites.filters, P.tile_scale);
      $("path-info").textContent = P.path_hint;
      draw();
    });
  }

  function boot() {
    try {
      const payload = JSON.parse($("aekit-data").textContent);
      start(payload)
        .then(function () {
          requestAnimationFrame(function () {
            api.readyMs = performance.now();
            api.ready = true;
          });
        })
        .catch(function (err) {
          api.errors.push(String(err));
          console.error(err);
        });
    } catch (err) {
      api.errors.push(String(err));
      console.error(err);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
