// Small inline-SVG charts: a daily line chart with several series and a
// horizontal stacked bar chart. They scale with their container (viewBox)
// and carry <title> elements so values show on hover and to screen readers.

import { h, s } from './ui.js';

export const PALETTE = ['#1f5fbf', '#e07b00', '#2e9d5b', '#b03a8f', '#6b7785'];

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function legend(series) {
  return h(
    'div',
    { class: 'legend' },
    series.map((se, i) =>
      h('span', { class: 'legend-item' },
        h('i', { class: `swatch swatch-${i}` }), se.label)),
  );
}

/**
 * Lines over days.
 * @param {string[]} days  x labels (YYYY-MM-DD)
 * @param {{label: string, values: number[]}[]} series
 */
export function lineChart(days, series, { height = 300 } = {}) {
  const W = 960;
  const H = height;
  const pad = { l: 36, r: 12, t: 12, b: 28 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const max = niceMax(Math.max(1, ...series.flatMap((se) => se.values)));
  const x = (i) => pad.l + (days.length <= 1 ? iw / 2 : (i * iw) / (days.length - 1));
  const y = (v) => pad.t + ih - (v / max) * ih;

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  svg.append(s('title', null, `每日趋势：${series.map((se) => se.label).join('、')}`));
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    svg.append(
      s('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: pad.l - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, formatTick(v)),
    );
  }
  const step = Math.max(1, Math.ceil(days.length / 8));
  days.forEach((d, i) => {
    // The last day is always labelled; a regular label too close to it is not.
    const last = i === days.length - 1;
    if (last || (i % step === 0 && days.length - 1 - i >= step / 2)) {
      svg.append(s('text', { x: x(i), y: H - 8, class: 'axis', 'text-anchor': last && i > 0 ? 'end' : 'middle' }, d.slice(5)));
    }
  });
  series.forEach((se, si) => {
    if (!se.values.length) return;
    const pts = se.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    svg.append(s('polyline', { points: pts, class: `series series-${si}` }));
    se.values.forEach((v, i) => {
      svg.append(
        s('circle', { cx: x(i), cy: y(v), r: days.length > 40 ? 1.5 : 3, class: `dot series-${si}` },
          s('title', null, `${days[i]} ${se.label}：${v}`)),
      );
    });
  });
  return h('figure', { class: 'chart-box' }, svg, legend(series));
}

/**
 * Horizontal stacked bars, one row per category.
 * @param {{label: string, parts: number[]}[]} rows
 * @param {string[]} partLabels
 */
export function stackedBars(rows, partLabels) {
  const W = 960;
  const rowH = 28;
  const labelW = 110;
  const H = rows.length * rowH + 8;
  const max = niceMax(Math.max(1, ...rows.map((r) => r.parts.reduce((a, b) => a + b, 0))));
  const iw = W - labelW - 48;
  const svg = s('svg', { viewBox: `0 0 ${W} ${Math.max(H, 30)}`, class: 'chart', role: 'img' });
  svg.append(s('title', null, `分类统计：${partLabels.join('、')}`));
  rows.forEach((r, ri) => {
    const y = 4 + ri * rowH;
    svg.append(s('text', { x: labelW - 8, y: y + 16, class: 'axis', 'text-anchor': 'end' }, r.label));
    let x = labelW;
    r.parts.forEach((v, pi) => {
      const w = (v / max) * iw;
      if (w > 0) {
        svg.append(
          s('rect', { x, y: y + 3, width: w, height: rowH - 8, class: `bar series-${pi}` },
            s('title', null, `${r.label} ${partLabels[pi]}：${v}`)),
        );
      }
      x += w;
    });
    const total = r.parts.reduce((a, b) => a + b, 0);
    svg.append(s('text', { x: x + 6, y: y + 16, class: 'axis' }, String(total)));
  });
  return h('figure', { class: 'chart-box' }, svg, legend(partLabels.map((label) => ({ label }))));
}

/** A single 0–1 rate as a bar with its percentage; `target` draws a mark. */
export function rateBar(rate, { target } = {}) {
  const W = 120;
  const svg = s('svg', { viewBox: `0 0 ${W} 10`, class: 'rate', role: 'img' });
  const v = rate === null || rate === undefined ? 0 : Math.max(0, Math.min(1, rate));
  svg.append(
    s('rect', { x: 0, y: 0, width: W, height: 10, rx: 3, class: 'rate-bg' }),
    s('rect', { x: 0, y: 0, width: v * W, height: 10, rx: 3, class: v >= (target ?? 0.9) ? 'rate-ok' : 'rate-low' }),
  );
  if (target !== undefined) svg.append(s('line', { x1: target * W, x2: target * W, y1: 0, y2: 10, class: 'rate-target' }));
  return svg;
}

function formatTick(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
