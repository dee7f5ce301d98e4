/* minecarbon web viewer: layers of the workspace over the years, a pixel's and a unit's history.
 * Data come from data/meta.js (window.MC), data/values_<year>.js (window.MC_VALUES[year]) and
 * data/values_static.js (window.MC_STATIC); the map is drawn in the project CRS. */
(function () {
  "use strict";
  const MC = window.MC;
  const T = {
    zh: { layer: "图层", overlays: "矢量图层", year: "年份", legend: "图例", other: "English",
      hint: "点击地图上的像元，查看其历年地上碳储量及所在单元的碳储量总量。",
      pixel: "像元", agc: "地上碳储量", interval: "95% 区间", trend: "变化趋势", unit: "单元",
      unitTotals: "单元碳储量总量 (t C)", estimate: "估计值", mapped: "地图求和",
      none: "无", tph: "t C/ha", extent: "监测评估范围", damage: "损毁图斑",
      reclamation: "复垦图斑", plots: "样地", history: "历年地上碳储量 (t C/ha)",
      notForest: "该年非森林" },
    en: { layer: "Layer", overlays: "Overlays", year: "Year", legend: "Legend", other: "中文",
      hint: "Click a pixel of the map for its AGC over the years and its unit's totals.",
      pixel: "Pixel", agc: "AGC", interval: "95 % interval", trend: "Trend", unit: "Unit",
      unitTotals: "Unit totals (t C)", estimate: "estimate", mapped: "map sum",
      none: "none", tph: "t C/ha", extent: "monitoring extent", damage: "damage",
      reclamation: "reclamation", plots: "plots", history: "AGC over the years (t C/ha)",
      notForest: "not forest that year" },
  };
  const state = { lang: "zh", layer: MC.layers.length ? MC.layers[0].id : null,
    year: MC.years[MC.years.length - 1], timer: null, last: null };
  const byId = (id) => document.getElementById(id);
  const t = (key) => T[state.lang][key];
  const name = (pair) => (state.lang === "zh" ? pair[0] : pair[1]);

  // ---------------------------------------------------------------- map
  const projection = new ol.proj.Projection({ code: MC.crs, units: "m", extent: MC.extent });
  const image = new ol.layer.Image({ opacity: 1 });
  const styles = {
    extent: new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#333", width: 1.2 }) }),
    damage: new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#a50f15", width: 1.5 }),
      fill: new ol.style.Fill({ color: "rgba(165,15,21,0.15)" }) }),
    reclamation: new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#08519c",
      width: 1.5, lineDash: [4, 3] }) }),
    plots: new ol.style.Style({ image: new ol.style.RegularShape({ points: 3, radius: 6,
      fill: new ol.style.Fill({ color: "#000" }) }) }),
  };
  const overlays = {};
  const format = new ol.format.GeoJSON();
  for (const key of ["extent", "damage", "reclamation", "plots"]) {
    if (!MC.vectors[key]) continue;
    overlays[key] = new ol.layer.Vector({ style: styles[key], source: new ol.source.Vector({
      features: format.readFeatures(MC.vectors[key]) }), visible: key !== "reclamation" });
  }
  const map = new ol.Map({ target: "map", layers: [image, ...Object.values(overlays)],
    view: new ol.View({ projection, extent: MC.extent, constrainOnlyCenter: true }) });
  map.getView().fit(MC.extent, { padding: [10, 10, 10, 10] });

  function layerDef(id) { return MC.layers.find((l) => l.id === id); }

  function showRaster() {
    const def = layerDef(state.layer);
    if (!def) { image.setSource(null); return; }
    const key = def.annual ? String(state.year) : "all";
    const url = def.files[key];
    image.setSource(url ? new ol.source.ImageStatic({ url, projection, imageExtent: MC.extent,
      interpolate: false }) : null);
    byId("year").disabled = !def.annual;
    renderLegend(def);
  }

  // ---------------------------------------------------------------- controls
  function renderControls() {
    document.documentElement.lang = state.lang;
    byId("title").textContent = MC.name || "minecarbon";
    byId("lang").textContent = t("other");
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    const layers = byId("layers");
    layers.textContent = "";
    for (const def of MC.layers) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio"; input.name = "layer"; input.value = def.id;
      input.checked = def.id === state.layer;
      input.addEventListener("change", () => { state.layer = def.id; showRaster(); });
      label.append(input, " ", state.lang === "zh" ? def.zh : def.en);
      layers.append(label);
    }
    const box = byId("overlays");
    box.textContent = "";
    for (const [key, layer] of Object.entries(overlays)) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox"; input.value = key; input.checked = layer.getVisible();
      input.addEventListener("change", () => layer.setVisible(input.checked));
      label.append(input, " ", t(key));
      box.append(label);
    }
    const slider = byId("year");
    slider.min = MC.years[0]; slider.max = MC.years[MC.years.length - 1];
    slider.value = state.year;
    byId("year-label").textContent = state.year;
    showRaster();
    if (state.last) showPixel(state.last[0], state.last[1]);
  }

  function renderLegend(def) {
    const box = byId("legend");
    box.textContent = "";
    const head = document.createElement("div");
    head.textContent = state.lang === "zh" ? def.zh : def.en;
    box.append(head);
    const lg = def.legend;
    if (lg.type === "classes") {
      for (const [code, zh, en, colour] of lg.items) {
        const row = document.createElement("div");
        row.className = "item"; row.dataset.code = code;
        const sw = document.createElement("span");
        sw.className = "swatch"; sw.style.background = colour;
        row.append(sw, state.lang === "zh" ? zh : en);
        box.append(row);
      }
    } else {
      const ramp = document.createElement("div");
      ramp.className = "ramp";
      ramp.style.background = `linear-gradient(to right, ${lg.colors.join(",")})`;
      const ends = document.createElement("div");
      ends.className = "ends";
      ends.innerHTML = `<span>${lg.min}</span><span>${lg.units}</span><span>${lg.max}</span>`;
      box.append(ramp, ends);
    }
  }

  function setYear(year) {
    state.year = Number(year);
    byId("year").value = state.year;
    byId("year-label").textContent = state.year;
    showRaster();
    if (state.last) showPixel(state.last[0], state.last[1]);
  }

  byId("year").addEventListener("input", (e) => setYear(e.target.value));
  byId("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh"; renderControls();
  });
  byId("play").addEventListener("click", () => {
    if (state.timer) { clearInterval(state.timer); state.timer = null;
      byId("play").textContent = "▶"; return; }
    byId("play").textContent = "❚❚";
    state.timer = setInterval(() => {
      const i = MC.years.indexOf(state.year);
      setYear(MC.years[(i + 1) % MC.years.length]);
    }, 900);
  });

  // ---------------------------------------------------------------- values
  // values are deflated (zlib) and base64-encoded: q16 = hundredths in uint16 (65535: none),
  // u8 = codes, trend = class + 128 (0: none)
  const decoded = new Map();
  async function inflate(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }
  async function decode(b64, type, key) {
    if (decoded.has(key)) return decoded.get(key);
    const buffer = await inflate(b64);
    let out;
    if (type === "q16") {
      const q = new Uint16Array(buffer);
      out = new Float32Array(q.length);
      for (let i = 0; i < q.length; i++) out[i] = q[i] === 65535 ? NaN : q[i] / 100;
    } else if (type === "trend") {
      const u = new Uint8Array(buffer);
      out = new Float32Array(u.length);
      for (let i = 0; i < u.length; i++) out[i] = u[i] === 0 ? NaN : u[i] - 128;
    } else {
      out = new Uint8Array(buffer);
    }
    decoded.set(key, out);
    return out;
  }
  function loadYear(year) {
    if (window.MC_VALUES[year]) return Promise.resolve(window.MC_VALUES[year]);
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = `data/values_${year}.js`;
      s.onload = () => resolve(window.MC_VALUES[year]);
      s.onerror = () => reject(new Error(`data/values_${year}.js`));
      document.head.append(s);
    });
  }
  function cell(x, y) {
    const [x0, y0, x1, y1] = MC.extent;
    const size = (x1 - x0) / MC.width;
    const col = Math.floor((x - x0) / size), row = Math.floor((y1 - y) / size);
    if (col < 0 || row < 0 || col >= MC.width || row >= MC.height) return null;
    return { row, col, index: row * MC.width + col };
  }
  const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? "—" : v.toFixed(d));

  // ---------------------------------------------------------------- info panel
  function chart(years, est, lo, hi, marker) {
    const w = 300, h = 150, m = 28;
    const vals = [...est, ...lo, ...hi].filter((v) => v !== null && !Number.isNaN(v));
    if (!vals.length) return "";
    const vmax = Math.max(...vals, 1e-9), vmin = Math.min(0, ...vals);
    const X = (yr) => m + (w - m - 6) * (yr - years[0]) / Math.max(1, years[years.length - 1] - years[0]);
    const Y = (v) => h - 18 - (h - 26) * (v - vmin) / (vmax - vmin || 1);
    const ok = (i) => est[i] !== null && !Number.isNaN(est[i]);
    let band = "", line = "";
    const up = [], down = [];
    years.forEach((yr, i) => {
      if (lo[i] !== null && hi[i] !== null && !Number.isNaN(lo[i]) && !Number.isNaN(hi[i])) {
        up.push(`${X(yr)},${Y(hi[i])}`); down.unshift(`${X(yr)},${Y(lo[i])}`);
      }
      if (ok(i)) line += `${line ? "L" : "M"}${X(yr)},${Y(est[i])}`;
    });
    if (up.length) band = `<polygon points="${up.concat(down).join(" ")}" fill="#1b7837" fill-opacity="0.18"/>`;
    const mk = marker === null ? "" : `<line x1="${X(marker)}" x2="${X(marker)}" y1="4" y2="${h - 18}" stroke="#999" stroke-dasharray="3,3"/>`;
    const ticks = [[years[0], "start"], [years[years.length - 1], "end"]].map(([yr, a]) =>
      `<text x="${X(yr)}" y="${h - 4}" font-size="10" text-anchor="${a}">${yr}</text>`).join("");
    const vt = `<text x="2" y="${Y(vmax) + 4}" font-size="10">${fmt(vmax, 0)}</text><text x="2" y="${Y(vmin)}" font-size="10">${fmt(vmin, 0)}</text>`;
    return `<svg viewBox="0 0 ${w} ${h}">${band}${mk}<path d="${line}" fill="none" stroke="#1b7837" stroke-width="1.6"/>${ticks}${vt}</svg>`;
  }

  function unitBlock(zone) {
    const tot = MC.totals[zone];
    if (!tot) return "";
    const rows = tot.years.map((yr, i) =>
      `<tr data-year="${yr}"><td>${yr}</td><td class="agc">${fmt(tot.agc[i], 1)}</td>` +
      `<td class="lo">${fmt(tot.lo[i], 1)}</td><td class="hi">${fmt(tot.hi[i], 1)}</td></tr>`).join("");
    return `<div class="unit" data-zone="${zone}"><h3>${name([tot.zh, tot.en])}</h3>` +
      chart(tot.years, tot.agc, tot.lo, tot.hi, state.year) +
      `<table class="unit-table"><tr><th>${t("year")}</th><th>${t("estimate")}</th>` +
      `<th colspan="2">${t("interval")}</th></tr>${rows}</table></div>`;
  }

  function showPixel(x, y) {
    const c = cell(x, y);
    state.last = [x, y];
    const box = byId("info");
    if (!c) { box.innerHTML = `<p>${t("hint")}</p>`; return Promise.resolve(null); }
    return Promise.all(MC.years.map(loadYear)).then(async (all) => {
      const get = async (k, key, type) => {
        const v = all[k];
        return v && v[key] ? (await decode(v[key], type, `${MC.years[k]}:${key}`))[c.index]
          : null;
      };
      const series = (key) => Promise.all(all.map((_, k) => get(k, key, "q16")));
      const [est, lo, hi] = await Promise.all([series("agc"), series("lo"), series("hi")]);
      const i = MC.years.indexOf(state.year);
      const l1 = await get(i, "l1", "u8"), l2 = await get(i, "l2", "u8");
      const trendCode = MC_STATIC.trend
        ? (await decode(MC_STATIC.trend, "trend", "static:trend"))[c.index] : null;
      const trend = trendCode === null || Number.isNaN(trendCode) ? t("none")
        : name(MC.trend_labels[trendCode] || ["", ""]);
      const unitName = (lv, code) => (code ? name(MC.units[lv][code] || ["?", "?"]) : t("none"));
      const rows = MC.years.map((yr, k) => `<tr data-year="${yr}"><td>${yr}</td>` +
        `<td class="agc">${fmt(est[k])}</td><td class="lo">${fmt(lo[k])}</td>` +
        `<td class="hi">${fmt(hi[k])}</td></tr>`).join("");
      box.innerHTML =
        `<div id="pixel" data-row="${c.row}" data-col="${c.col}" data-year="${state.year}" ` +
        `data-agc="${fmt(est[i], 4)}" data-l1="${l1 || 0}" data-l2="${l2 || 0}" ` +
        `data-trend="${trendCode === null || Number.isNaN(trendCode) ? "" : trendCode}">` +
        `<h3>${t("pixel")} (${c.row}, ${c.col})</h3>` +
        `<p>${state.year}: ${t("agc")} <b>${Number.isNaN(est[i]) || est[i] === null ? t("notForest") : fmt(est[i]) + " " + t("tph")}</b>` +
        ` (${t("interval")} ${fmt(lo[i])} – ${fmt(hi[i])})<br>${t("trend")}: ${trend}<br>` +
        `${t("unit")}: ${unitName("l1", l1)} / ${unitName("l2", l2)}</p>` +
        `<h4>${t("history")}</h4>${chart(MC.years, est, lo, hi, state.year)}` +
        `<table id="pixel-table"><tr><th>${t("year")}</th><th>${t("agc")}</th>` +
        `<th colspan="2">${t("interval")}</th></tr>${rows}</table></div>` +
        `<h4>${t("unitTotals")}</h4>` + (l2 ? unitBlock(`l2:${l2}`) : "") +
        (l1 ? unitBlock(`l1:${l1}`) : "") + unitBlock("extent");
      return { row: c.row, col: c.col, est, lo, hi, l1, l2, trend: trendCode };
    });
  }

  function plotBlock(feature) {
    const p = feature.getProperties();
    const agc = p.agc_t_per_ha === null || p.agc_t_per_ha === undefined ? "—"
      : `${fmt(p.agc_t_per_ha)} ${t("tph")} (${t("interval")} ${fmt(p.agc_ci_low)} – ${fmt(p.agc_ci_high)})`;
    return `<div id="plot" data-plot="${p.plot_id}"><h3>${t("plots")} ${p.plot_id}</h3>` +
      `<p>${t("agc")}: ${agc}</p></div>`;
  }

  map.on("singleclick", (e) => {
    let plot = null;
    if (overlays.plots && overlays.plots.getVisible()) {
      map.forEachFeatureAtPixel(e.pixel, (f) => { plot = f; return true; },
        { layerFilter: (l) => l === overlays.plots, hitTolerance: 4 });
    }
    showPixel(e.coordinate[0], e.coordinate[1]).then(() => {
      if (plot) byId("info").insertAdjacentHTML("afterbegin", plotBlock(plot));
    });
  });

  renderControls();
  // for scripted use and the browser test
  window.mcApp = { map, state, setYear, setLayer: (id) => { state.layer = id; renderControls(); },
    clickAt: showPixel, pixelOf: (x, y) => map.getPixelFromCoordinate([x, y]), ready: true };
})();
