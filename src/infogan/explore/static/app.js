// infogan explore: dials for a trained run's latent codes, a traversal grid, and reading a drawn or dropped image.
// Plain JavaScript, no build step; everything comes from this server.
"use strict";

const state = { runs: [], sideBySide: false, note: null, seed: 0, codes: {}, inflight: [] };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body.payload),
    signal: body.signal,
  });
  if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
  return response;
}

function measured(code) {
  const parts = [];
  if (typeof code.mi_lower_bound === "number") {
    const ceiling = code.kind === "categorical" ? ` of H(c) ${code.entropy.toFixed(2)}` : "";
    parts.push(`L_I ${code.mi_lower_bound.toFixed(3)}${ceiling}`);
  }
  if (typeof code.accuracy === "number") parts.push(`accuracy ${code.accuracy.toFixed(3)}`);
  if (typeof code.fidelity === "number") parts.push(`generation fidelity ${code.fidelity.toFixed(3)}`);
  return parts.join(", ");
}

// --- dials ------------------------------------------------------------------------------------------------------
// What a code was measured to control, e.g. "slant (rho 0.97)", or "" when eval.json does not say.
const controls = (code) => (code && code.controls ? `${code.controls} (rho ${Number(code.rho).toFixed(2)})` : "");

function buildDials(run, other) {
  const box = $("dials");
  box.replaceChildren();
  const twin = (code) => (other ? other.codes.find((c) => c.name === code.name) : undefined);
  for (const code of run.codes) {
    // With two runs the same dial drives both, but a code means what each run made of it: say both.
    const meaning = other
      ? [[run, code], [other, twin(code)]].map(([r, c]) => `${r.name}: ${controls(c) || "?"}`).join("; ")
      : controls(code);
    const title = code.kind !== "categorical" && meaning ? `${code.name} — ${meaning}` : code.name;
    // one run's figures beside its dial; with two, each run's are in the Measured tables
    const figures = other ? "" : measured(code);
    const dial = el("div", { class: "dial", id: `dial-${code.name}` },
      el("div", {}, el("span", { class: "name" }, code.role === "label" ? `${title} (label)` : title),
        " ", el("span", { class: "measured" }, figures)));
    if (code.kind === "categorical") {
      state.codes[code.name] = 0;
      const buttons = el("div", { class: "buttons" });
      const owners = [[run, code], [other, twin(code)]].filter(([r, c]) => r && c && c.labels);
      const digits = owners.map(([, c]) => c);
      for (let i = 0; i < code.k; i++) {
        const mapped = digits.map((c) => (c.labels[i] >= 0 ? String(c.labels[i]) : "?")).join(" | ");
        buttons.append(el("button", {
          type: "button", "data-code": code.name, "data-value": i, class: i === 0 ? "on" : "",
          onclick: () => setCode(code.name, i),
        }, mapped ? `${i} → ${mapped}` : `${i}`));
      }
      dial.append(buttons);
      if (digits.length) {
        const whose = other ? ` (${owners.map(([r]) => r.name).join(" | ")})` : "";
        dial.append(el("p", { class: "legend" },
          `category → the digit it was matched to on labelled held-out images${whose}`));
      }
    } else {
      state.codes[code.name] = 0;
      const [lo, hi] = code.prior;
      const ticks = el("datalist", { id: `ticks-${code.name}` }, el("option", { value: lo }), el("option", { value: 0 }),
        el("option", { value: hi }));
      const slider = el("input", {
        type: "range", min: -2, max: 2, step: 0.01, value: 0, list: `ticks-${code.name}`, "data-code": code.name,
        oninput: (event) => setCode(code.name, Number(event.target.value)),
      });
      const shown = el("output", { id: `value-${code.name}` }, "0.00");
      dial.append(el("div", { class: "slider" }, slider, shown, ticks,
        el("span", { class: "prior" }, `prior ${lo}..${hi}`)));
    }
    box.append(dial);
  }
  if (run.hidden_codes) box.append(el("p", { class: "measured" }, `${run.hidden_codes} more latent dimensions are drawn from the seed`));
  if (!run.codes.length) box.append(el("p", { class: "measured" }, "this model's input is noise only: change the seed"));
}

function setCode(name, value, redraw = true) {
  state.codes[name] = value;
  for (const button of document.querySelectorAll(`button[data-code="${name}"]`)) {
    button.classList.toggle("on", Number(button.dataset.value) === value);
  }
  const slider = document.querySelector(`input[type=range][data-code="${name}"]`);
  if (slider) {
    slider.value = value;
    $(`value-${name}`).textContent = Number(value).toFixed(2);
  }
  if (redraw) render();
}

function codesFor(run) {
  const names = new Set(run.codes.map((c) => c.name));
  return Object.fromEntries(Object.entries(state.codes).filter(([name]) => names.has(name)));
}

// --- images -----------------------------------------------------------------------------------------------------
function buildViews() {
  const views = $("views");
  views.replaceChildren();
  const shown = state.sideBySide && !state.note ? state.runs : state.runs.slice(0, 1);
  shown.forEach((run, i) => {
    views.append(el("figure", {}, el("img", { id: `image-${i}`, class: "pixels", alt: `sample of ${run.name}` }),
      el("figcaption", {}, `${run.name} (${run.model}, ${run.where})`)));
  });
}

// A new setting aborts the request still in flight for the same view: stale images are dropped, not queued.
async function render() {
  const shown = state.sideBySide && !state.note ? state.runs : state.runs.slice(0, 1);
  await Promise.all(shown.map(async (run, i) => {
    if (state.inflight[i]) state.inflight[i].abort();
    const controller = new AbortController();
    state.inflight[i] = controller;
    try {
      const response = await post("/api/image", {
        payload: { run: i, seed: state.seed, codes: codesFor(run), scale: 1 }, signal: controller.signal,
      });
      const blob = await response.blob();
      const img = $(`image-${i}`);
      const old = img.src;
      img.src = URL.createObjectURL(blob);
      img.dataset.seed = String(state.seed);
      if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    } catch (error) {
      if (error.name !== "AbortError") showNote(error.message);
    } finally {
      if (state.inflight[i] === controller) state.inflight[i] = null;
    }
  }));
}

function showNote(text) {
  const note = $("note");
  note.textContent = text;
  note.hidden = !text;
}

// --- facts ------------------------------------------------------------------------------------------------------
function buildFacts() {
  const box = $("facts");
  box.replaceChildren();
  for (const run of state.runs) {
    const rows = run.codes.map((code) => el("tr", {}, el("td", {}, code.name), el("td", {}, code.kind),
      el("td", { class: "num" }, typeof code.mi_lower_bound === "number" ? code.mi_lower_bound.toFixed(3) : "-"),
      el("td", { class: "num" }, code.kind === "categorical" && code.entropy ? code.entropy.toFixed(3) : "-"),
      el("td", { class: "num" }, typeof code.accuracy === "number" ? code.accuracy.toFixed(3) : "-"),
      el("td", { class: "num" }, typeof code.fidelity === "number" ? code.fidelity.toFixed(3) : "-"),
      el("td", {}, code.controls ? `${code.controls} (${Number(code.rho).toFixed(2)})` : "-")));
    const table = el("table", {}, el("tr", {}, ...["code", "kind", "L_I", "H(c)", "accuracy", "fidelity", "controls"].map((h) => el("th", {}, h))), ...rows);
    const summary = Object.entries(run.facts).map(([k, v]) => `${k} ${typeof v === "number" ? Number(v.toPrecision(4)) : v}`).join(", ");
    box.append(el("h3", {}, `${run.name}: ${run.model} on ${run.dataset}`), table,
      el("p", { class: "measured" }, summary || "no eval.json: run infogan eval on this run to see what it measured"));
  }
}

// --- grid -------------------------------------------------------------------------------------------------------
function buildGridControls(run) {
  const code = $("grid-code");
  const rowsBy = $("grid-rows-by");
  code.replaceChildren(...run.codes.map((c) => el("option", { value: c.name }, c.name)));
  const continuous = run.codes.find((c) => c.kind !== "categorical");
  if (continuous) code.value = continuous.name;
  const categorical = run.codes.filter((c) => c.kind === "categorical");
  rowsBy.replaceChildren(el("option", { value: "auto" }, "auto"),
    ...categorical.map((c) => el("option", { value: c.name }, `by ${c.name}`)), el("option", { value: "noise" }, "noise draws"));
  $("grid-section").hidden = !run.codes.length;
}

function gridPayload(format) {
  const rowsBy = $("grid-rows-by").value;
  return {
    run: 0, seed: state.seed, codes: codesFor(state.runs[0]), code: $("grid-code").value,
    rows_by: rowsBy === "noise" ? null : rowsBy, rows: Number($("grid-rows").value),
    columns: Number($("grid-columns").value), low: Number($("grid-low").value), high: Number($("grid-high").value),
    format,
  };
}

async function drawGrid() {
  const error = $("grid-error");
  error.hidden = true;
  const [low, high] = [$("grid-low").value, $("grid-high").value];
  if (low.trim() === "" || high.trim() === "" || Number(low) >= Number(high)) {
    error.textContent = "give the sweep's range as two numbers, the first below the second, e.g. from -2 to 2";
    error.hidden = false;
    return;
  }
  try {
    const png = await (await post("/api/grid", { payload: gridPayload("png") })).blob();
    const url = URL.createObjectURL(png);
    $("grid-image").src = url;
    $("grid-image").hidden = false;
    $("grid-hint").hidden = true;
    $("grid-png").hidden = false;
    $("grid-gif").hidden = false;
    $("grid-png").href = url;
    const gif = await (await post("/api/grid", { payload: gridPayload("gif") })).blob();
    $("grid-gif").href = URL.createObjectURL(gif);
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

// --- drawing and reading an image ---------------------------------------------------------------------------------
function setUpCanvas() {
  const canvas = $("canvas");
  const context = canvas.getContext("2d");
  const clear = () => { context.fillStyle = "#000"; context.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  let drawing = false;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    context.beginPath();
    context.moveTo(x, y);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = point(event);
    context.lineTo(x, y);
    context.strokeStyle = "#fff";
    context.lineWidth = 22;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.stroke();
  });
  canvas.addEventListener("pointerup", () => { drawing = false; });
  $("clear").addEventListener("click", clear);
  $("read").addEventListener("click", () => canvas.toBlob((blob) => infer(blob), "image/png"));
  $("file").addEventListener("change", (event) => { if (event.target.files[0]) infer(event.target.files[0]); });
  canvas.addEventListener("dragover", (event) => { event.preventDefault(); canvas.classList.add("dropping"); });
  canvas.addEventListener("dragleave", () => canvas.classList.remove("dropping"));
  canvas.addEventListener("drop", (event) => {
    event.preventDefault();
    canvas.classList.remove("dropping");
    if (event.dataTransfer.files[0]) infer(event.dataTransfer.files[0]);
  });
}

async function infer(blob) {
  const error = $("infer-error");
  error.hidden = true;
  const form = new FormData();
  form.append("file", blob, "image.png");
  form.append("run", "0");
  form.append("seed", String(state.seed));
  try {
    const response = await fetch("/api/infer", { method: "POST", body: form });
    const result = await response.json();
    if (!response.ok) throw new Error(result.detail);
    showInferred(result);
    for (const [name, value] of Object.entries(result.values)) {
      if (name in state.codes) setCode(name, value, false);
    }
    render();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

function showInferred(result) {
  const box = $("inferred");
  const [h, w] = state.runs[0].image_shape.slice(1);
  box.replaceChildren(el("div", { class: "thumbs" },
    el("figure", {}, el("img", { src: result.input, alt: "the image as the model sees it", class: "pixels" }),
      el("figcaption", {}, `your image as the model reads it (${h}x${w})`)),
    el("figure", {}, el("img", { src: result.rendering, alt: "G's rendering of the codes read", class: "pixels", id: "rendering" }),
      el("figcaption", {}, "G's drawing of the codes read"))));
  const codeInfo = Object.fromEntries(state.runs[0].codes.map((c) => [c.name, c]));
  for (const [name, read] of Object.entries(result.codes)) {
    if (read.probabilities) {
      const label = read.label === null || read.label === undefined ? "" : `, the digit ${read.label}`;
      box.append(el("p", { class: "inferred-code", "data-code": name }, `${name} = ${read.category}${label}`));
      const digits = codeInfo[name] && codeInfo[name].labels;
      const bars = el("table", {}, el("tr", {}, el("th", {}, digits ? "category → digit" : "category"), el("th", {}, "probability")));
      read.probabilities.forEach((p, i) => bars.append(el("tr", {},
        el("td", {}, digits && digits[i] >= 0 ? `${i} → ${digits[i]}` : String(i)),
        el("td", {}, el("span", { class: "bar" }), ` ${(100 * p).toFixed(1)}%`))));
      bars.querySelectorAll(".bar").forEach((bar, i) => { bar.style.width = `${Math.round(120 * read.probabilities[i])}px`; });
      box.append(bars);
    } else {
      box.append(el("p", { class: "inferred-code", "data-code": name }, `${name} = ${read.value.toFixed(3)}`));
    }
  }
}

// --- start ------------------------------------------------------------------------------------------------------
async function start() {
  const info = await (await fetch("/api/runs")).json();
  state.runs = info.runs;
  state.sideBySide = info.side_by_side;
  state.note = info.note;
  const first = state.runs[0];
  $("subtitle").textContent = state.runs.map((r) => `${r.name}: ${r.model} on ${r.dataset}, ${r.where}`).join(" | ");
  showNote(state.note || "");
  buildDials(first, state.sideBySide ? state.runs[1] : undefined);
  buildViews();
  buildFacts();
  buildGridControls(first);
  $("draw-section").hidden = !first.can_infer;
  setUpCanvas();
  $("seed").addEventListener("change", (event) => {
    state.seed = Math.max(0, Math.min(2147483647, Math.floor(Number(event.target.value) || 0)));
    render();
  });
  $("new-noise").addEventListener("click", () => {
    state.seed = Math.floor(Math.random() * 2147483647);
    $("seed").value = state.seed;
    render();
  });
  $("lock").addEventListener("change", (event) => {
    $("new-noise").disabled = event.target.checked;
    $("seed").disabled = event.target.checked;
  });
  $("grid-draw").addEventListener("click", drawGrid);
  await render();
  document.body.dataset.ready = "1";
}

start().catch((error) => showNote(`could not start: ${error.message}`));
