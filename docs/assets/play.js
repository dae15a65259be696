/* The "Draw a digit" page (docs/play.md): the book's network, running in the browser.

   Everything here mirrors a function of the book, in float64 (JavaScript's numbers):
     preprocess  -> mnist_math.handwriting.preprocess_image   (docs/handwriting.md)
     forward     -> mnist_math.forward.forward_prop           (docs/forward.md)
     backward    -> mnist_math.backward.backward_prop, m = 1  (docs/backward.md)
     update      -> mnist_math.train.update_params            (docs/gradient-descent.md)
   tests/test_play.py checks each against the Python function on the same inputs.
   The weights come from assets/play-models.js, written at build time by
   docs/hooks/play_models.py from the models/ files (.npz or .safetensors) that
   scripts/train_play_models.py saves.

   window.mnistMath is the programming interface (used by the tests):
     params()                   the weights in use: {W1, b1, W2, b2} as nested arrays with
                                the shapes of Python's arrays (b1 is (h, 1): [[x], [y], ...])
     preprocess(gray, w, h)     gray: w*h numbers in [0, 1], row by row -> 784 numbers
     forward(x)                 x: 784 numbers -> {Z1, A1, Z2, A2}, flat arrays
     backward(x, label)         -> {dZ2, dW2, db2, dZ1, dW1, db1}: vectors flat, matrices nested
     update(grads, lr)          one gradient-descent step on the weights in use
     models(), selectModel(name), reset()
*/
(function () {
  "use strict";

  // ------------------------------------------------------------------ preprocessing
  // The constants of mnist_math.handwriting.
  const BOX = 20;
  const FIELD = 28;
  const CENTRE = 14.0;
  const NOISE_MADS = 15.0;
  const MARGIN = 0.05;
  const MIN_CONTRAST = 0.2;
  const TIE = 1e-9;

  function median(values) {
    const sorted = Float64Array.from(values).sort();
    const n = sorted.length;
    if (n % 2 === 1) return sorted[(n - 1) / 2];
    return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  function borderPixels(gray, height, width) {
    if (height < 3 || width < 3) return Float64Array.from(gray);
    const border = [];
    for (let c = 0; c < width; c++) border.push(gray[c]);
    for (let c = 0; c < width; c++) border.push(gray[(height - 1) * width + c]);
    for (let r = 1; r < height - 1; r++) border.push(gray[r * width]);
    for (let r = 1; r < height - 1; r++) border.push(gray[r * width + width - 1]);
    return Float64Array.from(border);
  }

  // ink_image: eq. "ink" of docs/handwriting.md.
  function inkImage(gray, height, width) {
    let border = borderPixels(gray, height, width);
    let background = median(border);
    let g = gray;
    if (background > 0.5) {
      g = g.map((v) => 1.0 - v);
      border = border.map((v) => 1.0 - v);
      background = 1.0 - background;
    }
    let peak = -Infinity;
    for (let i = 0; i < g.length; i++) if (g[i] > peak) peak = g[i];
    const contrast = peak - background;
    if (contrast < MIN_CONTRAST) return new Float64Array(g.length);
    const noise = NOISE_MADS * median(border.map((v) => Math.abs(v - background)));
    const margin = border.every((v) => v === background) ? 0.0 : MARGIN;
    const floor = background + Math.min(Math.max(noise, margin * contrast), contrast / 2);
    const ink = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) {
      ink[i] = Math.min(Math.max((g[i] - floor) / (peak - floor), 0.0), 1.0);
    }
    return ink;
  }

  function cropToInk(ink, height, width) {
    let top = -1, bottom = -1, left = width, right = -1;
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        if (ink[r * width + c] > 0) {
          if (top < 0) top = r;
          bottom = r;
          if (c < left) left = c;
          if (c > right) right = c;
        }
      }
    }
    const h = bottom - top + 1;
    const w = right - left + 1;
    const crop = new Float64Array(h * w);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) crop[r * w + c] = ink[(top + r) * width + left + c];
    }
    return { crop, h, w };
  }

  // area_weights: eq. "area-average"; rows of (start, weights) instead of a dense matrix.
  function areaWeights(n, nNew) {
    const rows = [];
    for (let i = 0; i < nNew; i++) {
      const start = (i * n) / nNew;
      const stop = ((i + 1) * n) / nNew;
      const first = Math.floor(start);
      const last = Math.min(n, Math.ceil(stop));
      const weights = [];
      for (let r = first; r < last; r++) {
        const overlap = Math.min(stop, r + 1) - Math.max(start, r);
        weights.push((overlap * nNew) / n);
      }
      rows.push({ first, weights });
    }
    return rows;
  }

  function fitInBox(crop, h, w) {
    const scale = BOX / Math.max(h, w);
    const hNew = Math.max(1, Math.floor(h * scale + 0.5));
    const wNew = Math.max(1, Math.floor(w * scale + 0.5));
    const Rh = areaWeights(h, hNew);
    const Rw = areaWeights(w, wNew);
    const tall = new Float64Array(hNew * w); // Rh @ crop
    for (let i = 0; i < hNew; i++) {
      const { first, weights } = Rh[i];
      for (let k = 0; k < weights.length; k++) {
        const weight = weights[k];
        const row = (first + k) * w;
        for (let c = 0; c < w; c++) tall[i * w + c] += weight * crop[row + c];
      }
    }
    const S = new Float64Array(hNew * wNew); // (Rh @ crop) @ Rw.T
    for (let i = 0; i < hNew; i++) {
      for (let j = 0; j < wNew; j++) {
        const { first, weights } = Rw[j];
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k] * tall[i * w + first + k];
        S[i * wNew + j] = sum;
      }
    }
    return { S, h: hNew, w: wNew };
  }

  // centre_of_mass: eq. "centre-of-mass"; place_by_centre_of_mass.
  function placeByCentreOfMass(S, h, w) {
    let total = 0, rows = 0, cols = 0;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const v = S[r * w + c];
        total += v;
        rows += r * v;
        cols += c * v;
      }
    }
    const rBar = rows / total;
    const cBar = cols / total;
    const top = Math.min(Math.max(Math.floor(CENTRE - rBar + 0.5 + TIE), 0), FIELD - h);
    const left = Math.min(Math.max(Math.floor(CENTRE - cBar + 0.5 + TIE), 0), FIELD - w);
    const out = new Float64Array(FIELD * FIELD);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) out[(top + r) * FIELD + left + c] = S[r * w + c];
    }
    return out;
  }

  function preprocess(gray, width, height) {
    if (gray.length !== width * height) {
      throw new Error(`preprocess: ${gray.length} values for a ${width} x ${height} picture`);
    }
    const ink = inkImage(Float64Array.from(gray), height, width);
    if (!ink.some((v) => v > 0)) return new Float64Array(FIELD * FIELD);
    const { crop, h, w } = cropToInk(ink, height, width);
    const box = fitInBox(crop, h, w);
    return placeByCentreOfMass(box.S, box.h, box.w);
  }

  // ------------------------------------------------------------------ the network
  // Weights as flat row-major Float64Arrays: W1 (h x n), b1 (h), W2 (k x h), b2 (k).
  function fromNested(nested) {
    const p = {};
    p.h = nested.W1.length;
    p.n = nested.W1[0].length;
    p.k = nested.W2.length;
    p.W1 = Float64Array.from(nested.W1.flat());
    p.b1 = Float64Array.from(nested.b1.flat());
    p.W2 = Float64Array.from(nested.W2.flat());
    p.b2 = Float64Array.from(nested.b2.flat());
    return p;
  }

  function matrix(flat, rows, cols) {
    const out = [];
    for (let i = 0; i < rows; i++) {
      out.push(Array.from(flat.subarray(i * cols, (i + 1) * cols)));
    }
    return out;
  }

  function column(flat) {
    return Array.from(flat, (v) => [v]);
  }

  // forward_prop on one column x: Z1 = W1 x + b1, A1 = max(0, Z1), Z2 = W2 A1 + b2,
  // A2 = softmax(Z2) with the maximum subtracted first.
  function forwardWith(p, x) {
    if (x.length !== p.n) {
      throw new Error(`forward: ${x.length} pixels, the network reads ${p.n}`);
    }
    const Z1 = new Float64Array(p.h);
    const A1 = new Float64Array(p.h);
    for (let i = 0; i < p.h; i++) {
      let sum = 0;
      for (let j = 0; j < p.n; j++) sum += p.W1[i * p.n + j] * x[j];
      Z1[i] = sum + p.b1[i];
      A1[i] = Math.max(Z1[i], 0);
    }
    const Z2 = new Float64Array(p.k);
    for (let c = 0; c < p.k; c++) {
      let sum = 0;
      for (let i = 0; i < p.h; i++) sum += p.W2[c * p.h + i] * A1[i];
      Z2[c] = sum + p.b2[c];
    }
    let largest = -Infinity;
    for (let c = 0; c < p.k; c++) largest = Math.max(largest, Z2[c]);
    const exps = Z2.map((z) => Math.exp(z - largest));
    const total = exps.reduce((a, b) => a + b, 0);
    const A2 = exps.map((e) => e / total);
    return { Z1, A1, Z2, A2 };
  }

  // backward_prop with m = 1: dZ2 = A2 - y, dW2 = dZ2 A1^T, db2 = dZ2,
  // dZ1 = W2^T dZ2 * g'(Z1) (g'(0) = 0), dW1 = dZ1 x^T, db1 = dZ1.
  function backwardWith(p, x, label) {
    if (!Number.isInteger(label) || label < 0 || label >= p.k) {
      throw new Error(`backward: label must be an integer in 0..${p.k - 1}, got ${label}`);
    }
    const { Z1, A1, A2 } = forwardWith(p, x);
    const dZ2 = Float64Array.from(A2);
    dZ2[label] -= 1;
    const dW2 = new Float64Array(p.k * p.h);
    for (let c = 0; c < p.k; c++) {
      for (let i = 0; i < p.h; i++) dW2[c * p.h + i] = dZ2[c] * A1[i];
    }
    const db2 = Float64Array.from(dZ2);
    const dZ1 = new Float64Array(p.h);
    for (let i = 0; i < p.h; i++) {
      let sum = 0;
      for (let c = 0; c < p.k; c++) sum += p.W2[c * p.h + i] * dZ2[c];
      dZ1[i] = Z1[i] > 0 ? sum : 0;
    }
    const dW1 = new Float64Array(p.h * p.n);
    for (let i = 0; i < p.h; i++) {
      for (let j = 0; j < p.n; j++) dW1[i * p.n + j] = dZ1[i] * x[j];
    }
    const db1 = Float64Array.from(dZ1);
    return { dZ2, dW2, db2, dZ1, dW1, db1 };
  }

  // update_params: W <- W - lr dW, b <- b - lr db.
  function updateWith(p, grads, lr) {
    if (!(lr > 0) || !Number.isFinite(lr)) {
      throw new Error(`update: lr must be a positive number, got ${lr}`);
    }
    const q = { h: p.h, n: p.n, k: p.k };
    for (const name of ["W1", "b1", "W2", "b2"]) {
      const g = grads["d" + name];
      q[name] = p[name].map((v, i) => v - lr * g[i]);
    }
    return q;
  }

  // ------------------------------------------------------------------ state and interface
  const MODELS = (window.MNIST_MATH_MODELS || []).slice();
  MODELS.sort((a, b) => a.meta.order - b.meta.order);
  let current = MODELS.length ? MODELS[0] : null;
  let weights = current ? fromNested(current.params) : null;

  function asArray(x) {
    return Float64Array.from(x);
  }

  function gradsToPlain(g, p) {
    return {
      dZ2: Array.from(g.dZ2),
      dW2: matrix(g.dW2, p.k, p.h),
      db2: Array.from(g.db2),
      dZ1: Array.from(g.dZ1),
      dW1: matrix(g.dW1, p.h, p.n),
      db1: Array.from(g.db1),
    };
  }

  const api = {
    models: () => MODELS.map((m) => ({ name: m.name, title: m.title, meta: m.meta })),
    current: () => (current ? current.name : null),
    selectModel(name) {
      const found = MODELS.find((m) => m.name === name);
      if (!found) throw new Error(`no model named ${name}`);
      current = found;
      weights = fromNested(found.params);
      return name;
    },
    reset() {
      weights = fromNested(current.params);
    },
    params: () => ({
      W1: matrix(weights.W1, weights.h, weights.n),
      b1: column(weights.b1),
      W2: matrix(weights.W2, weights.k, weights.h),
      b2: column(weights.b2),
    }),
    preprocess: (gray, width, height) => Array.from(preprocess(gray, width, height)),
    forward(x) {
      const f = forwardWith(weights, asArray(x));
      return {
        Z1: Array.from(f.Z1),
        A1: Array.from(f.A1),
        Z2: Array.from(f.Z2),
        A2: Array.from(f.A2),
      };
    },
    backward: (x, label) => gradsToPlain(backwardWith(weights, asArray(x), label), weights),
    update(grads, lr) {
      const flat = {};
      for (const name of ["dW1", "db1", "dW2", "db2"]) {
        const nested = Array.isArray(grads[name][0]);
        flat[name] = Float64Array.from(nested ? grads[name].flat() : grads[name]);
      }
      weights = updateWith(weights, flat, lr);
    },
    // One step of "teach it": backward on x with the true label, update, forward again.
    teach(x, label, lr) {
      const pixels = asArray(x);
      const before = forwardWith(weights, pixels);
      const grads = backwardWith(weights, pixels, label);
      weights = updateWith(weights, grads, lr);
      const after = forwardWith(weights, pixels);
      return {
        before: Array.from(before.A2),
        after: Array.from(after.A2),
        grads: gradsToPlain(grads, weights),
      };
    },
  };
  window.mnistMath = api;

  // ------------------------------------------------------------------ the page
  const root = typeof document === "undefined" ? null : document.getElementById("play-app");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const pad = $("play-pad");
  const padContext = pad.getContext("2d", { willReadFrequently: true });
  const seen = $("play-seen");
  const seenContext = seen.getContext("2d");
  const STROKE = 18;
  let lastInput = new Float64Array(FIELD * FIELD);
  let drawing = false;
  let last = null;
  let scheduled = false;

  function clearPad() {
    padContext.fillStyle = "#ffffff";
    padContext.fillRect(0, 0, pad.width, pad.height);
    $("play-teach-result").hidden = true;
    refresh();
  }

  function grayOfPad() {
    const { data } = padContext.getImageData(0, 0, pad.width, pad.height);
    const gray = new Float64Array(pad.width * pad.height);
    for (let i = 0; i < gray.length; i++) {
      const [red, green, blue] = [data[4 * i], data[4 * i + 1], data[4 * i + 2]];
      gray[i] = (0.299 * red + 0.587 * green + 0.114 * blue) / 255;
    }
    return gray;
  }

  function position(event) {
    const rect = pad.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) * pad.width) / rect.width,
      y: ((event.clientY - rect.top) * pad.height) / rect.height,
    };
  }

  function strokeTo(point) {
    padContext.strokeStyle = "#000000";
    padContext.lineWidth = STROKE;
    padContext.lineCap = "round";
    padContext.lineJoin = "round";
    padContext.beginPath();
    padContext.moveTo(last.x, last.y);
    padContext.lineTo(point.x, point.y);
    padContext.stroke();
    last = point;
    schedule();
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      refresh();
    });
  }

  pad.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    drawing = true;
    last = position(event);
    strokeTo({ x: last.x + 0.01, y: last.y });
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    strokeTo(position(event));
  });
  for (const type of ["pointerup", "pointercancel"]) {
    pad.addEventListener(type, () => {
      drawing = false;
      refresh();
    });
  }

  function drawSeen(x) {
    const image = seenContext.createImageData(FIELD, FIELD);
    for (let i = 0; i < FIELD * FIELD; i++) {
      const v = Math.round(255 * x[i]);
      image.data[4 * i] = v;
      image.data[4 * i + 1] = v;
      image.data[4 * i + 2] = v;
      image.data[4 * i + 3] = 255;
    }
    seenContext.putImageData(image, 0, 0);
  }

  const MAX_BARS = 32; // a wider layer is drawn as a grid of cells

  // A wide layer (more than MAX_BARS units): one cell per unit, its colour the value.
  function cells(container, values, options) {
    const { signed, format } = options;
    const scale = options.scale || Math.max(1e-12, ...values.map(Math.abs));
    container.replaceChildren();
    container.classList.add("play-cells");
    values.forEach((v, i) => {
      const cell = document.createElement("span");
      cell.className = "play-cell" + (v < 0 ? " play-cell--negative" : "");
      cell.dataset.value = String(v);
      cell.style.opacity = String(0.08 + (0.92 * Math.abs(v)) / scale);
      cell.title = `unit ${i}: ${format(v)}`;
      container.appendChild(cell);
    });
    if (signed) container.classList.add("play-cells--signed");
  }

  function bars(container, values, options) {
    if (values.length > MAX_BARS) {
      cells(container, values, options);
      return;
    }
    container.classList.remove("play-cells");
    const { labels, signed, format, highlight } = options;
    const scale = options.scale || Math.max(1e-12, ...values.map(Math.abs));
    container.replaceChildren();
    values.forEach((v, i) => {
      const row = document.createElement("div");
      row.className = "play-bar" + (i === highlight ? " play-bar--top" : "");
      row.dataset.value = String(v);
      const label = document.createElement("span");
      label.className = "play-bar__label";
      label.textContent = labels ? labels[i] : String(i);
      const track = document.createElement("span");
      track.className = "play-bar__track" + (signed ? " play-bar__track--signed" : "");
      const fill = document.createElement("span");
      fill.className = "play-bar__fill" + (v < 0 ? " play-bar__fill--negative" : "");
      const width = (100 * Math.abs(v)) / scale;
      fill.style.width = (signed ? width / 2 : width) + "%";
      if (signed) fill.style.left = v < 0 ? 50 - width / 2 + "%" : "50%";
      track.appendChild(fill);
      const text = document.createElement("span");
      text.className = "play-bar__value";
      text.textContent = format(v);
      row.append(label, track, text);
      container.appendChild(row);
    });
  }

  function argmax(values) {
    let best = 0;
    values.forEach((v, i) => {
      if (v > values[best]) best = i;
    });
    return best;
  }

  const percent = (v) => (100 * v).toFixed(1) + "%";
  const number = (v) => (v >= 0 ? "+" : "") + v.toFixed(3);

  function refresh() {
    lastInput = preprocess(grayOfPad(), pad.width, pad.height);
    drawSeen(lastInput);
    const blank = !lastInput.some((v) => v > 0);
    const { A1, A2 } = forwardWith(weights, lastInput);
    const top = argmax(Array.from(A2));
    $("play-digit").textContent = blank ? "?" : String(top);
    $("play-status").textContent = blank
      ? "Draw a digit in the box."
      : `The network reads a ${top} (${percent(A2[top])}).`;
    bars($("play-hidden"), Array.from(A1), {
      labels: Array.from(A1, (_, i) => String(i)),
      signed: false,
      format: (v) => v.toFixed(2),
    });
    bars($("play-output"), Array.from(A2), {
      signed: false,
      scale: 1,
      format: percent,
      highlight: blank ? -1 : top,
    });
    $("play-teach").querySelectorAll("button").forEach((b) => (b.disabled = blank));
  }

  function largestMagnitude(values) {
    let largest = 0;
    for (const v of values) largest = Math.max(largest, Math.abs(v));
    return largest;
  }

  // The gradient bars use fixed scales, so that a short bar means a small gradient:
  // dZ2 = A2 - Y lies in [-1, 1], and |dZ1_i| = |sum_c W2[c][i] dZ2[c]| g'(Z1_i) is at most
  // max|W2| times sum_c |dZ2[c]| = 2 (1 - A2[label]) <= 2, so 2 max|W2| bounds it.
  function teach(label) {
    const lr = parseFloat($("play-lr").value);
    const dz1Scale = 2 * largestMagnitude(weights.W2); // the W2 of this backward pass
    const result = api.teach(lastInput, label, lr);
    const box = $("play-teach-result");
    box.hidden = false;
    $("play-taught").textContent = `One step towards "${label}" with learning rate ${lr}:`;
    bars($("play-dz2"), result.grads.dZ2, { signed: true, scale: 1, format: number });
    bars($("play-dz1"), result.grads.dZ1, {
      labels: result.grads.dZ1.map((_, i) => String(i)),
      signed: true,
      scale: dz1Scale,
      format: number,
    });
    $("play-dz1-scale").textContent = `a full bar is ±${dz1Scale.toPrecision(2)}`;
    $("play-dz1-scale").dataset.scale = String(dz1Scale);
    const moved = result.before.map((p, c) => ({ c, p, q: result.after[c] }));
    const table = $("play-moved");
    table.replaceChildren();
    for (const { c, p, q } of moved) {
      const row = document.createElement("tr");
      if (c === label) row.className = "play-moved--label";
      const change = (q >= p ? "+" : "") + (100 * (q - p)).toFixed(1) + " pts";
      for (const text of [String(c), percent(p), percent(q), change]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      }
      table.appendChild(row);
    }
    refresh();
  }

  const select = $("play-model");
  for (const m of MODELS) {
    const option = document.createElement("option");
    option.value = m.name;
    option.textContent = `${m.title} (test accuracy ${percent(m.meta.test_accuracy)})`;
    select.appendChild(option);
  }
  select.addEventListener("change", () => {
    api.selectModel(select.value);
    $("play-teach-result").hidden = true;
    showModel();
    refresh();
  });

  function showModel() {
    const facts = $("play-model-facts");
    const code = (text) => {
      const element = document.createElement("code");
      element.textContent = text;
      return element;
    };
    facts.replaceChildren(
      `${current.meta.architecture.join(" → ")}, ` +
        `test accuracy ${(100 * current.meta.test_accuracy).toFixed(2)}%. `,
      "Made by ",
      code(current.meta.command),
      ", which calls ",
      code(current.meta.trainer),
      "."
    );
  }

  const digits = $("play-teach-digits");
  for (let c = 0; c < 10; c++) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "md-button play-digit-button";
    button.textContent = String(c);
    button.dataset.label = String(c);
    button.addEventListener("click", () => teach(c));
    digits.appendChild(button);
  }
  $("play-clear").addEventListener("click", clearPad);
  $("play-reset").addEventListener("click", () => {
    api.reset();
    $("play-teach-result").hidden = true;
    refresh();
  });

  if (!current) {
    $("play-status").textContent = "No trained network was exported with this site.";
    return;
  }
  showModel();
  clearPad();
  root.dataset.ready = "true";
})();
