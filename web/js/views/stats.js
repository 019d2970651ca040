// Park statistics and the SLA summary over a date window, with charts and
// a CSV download of the statistics.

import { api } from '../api.js';
import { h, mount, errorBox, busy, label, fmtPct, fmtDuration, fmtYuan, isoDate, cstDate, KIND, URGENCY, SLA_STEP } from '../ui.js';
import { lineChart, stackedBars, rateBar } from '../charts.js';

const FUNNEL = [
  ['suggested', '推荐'],
  ['contacted', '已联系'],
  ['quoted', '已报价'],
  ['agreed', '已成交'],
  ['completed', '已履约'],
];

export function statsView() {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86_400_000);
  // The service counts days in China Standard Time: so does the default
  // window, even in a browser set to another zone.
  const from = h('input', { type: 'date', name: 'from', value: cstDate(monthAgo) });
  const to = h('input', { type: 'date', name: 'to', value: cstDate(today) });
  const csv = h('button', { class: 'btn', type: 'button', dataset: { action: 'csv' }, onclick: (e) => busy(e.currentTarget, download) }, '下载 CSV');
  const body = h('div', { id: 'stats' }, h('p', { class: 'muted' }, '正在统计…'));
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '统计')),
    h('form', { class: 'toolbar range', onsubmit: (e) => { e.preventDefault(); load(); } },
      h('label', null, '从', from), h('label', null, '到', to),
      h('button', { class: 'btn btn-primary', type: 'submit' }, '查询'), csv),
    body);

  // Both ends are days (China Standard Time); `to` includes its whole day.
  const range = () => ({ from: from.value, to: to.value });

  async function load() {
    try {
      const [stats, sla] = await Promise.all([api.get('/api/v1/staff/stats', range()), api.get('/api/v1/staff/sla', range())]);
      render(stats, sla);
    } catch (e) {
      mount(body, errorBox(e, load));
    }
  }

  /** The window's days (the service lists only days with data). */
  function everyDay(first, last, rows) {
    const out = [];
    const start = new Date(`${first || rows[0]?.date}T00:00:00`);
    const end = new Date(`${last || rows[rows.length - 1]?.date}T00:00:00`);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return rows.map((d) => d.date);
    for (let d = start; d <= end && out.length < 800; d = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1)) {
      out.push(isoDate(d));
    }
    return out;
  }

  function kpi(title, value, sub) {
    return h('div', { class: 'kpi' }, h('div', { class: 'kpi-title' }, title), h('div', { class: 'kpi-value' }, value), sub && h('div', { class: 'kpi-sub muted small' }, sub));
  }

  function render(st, sla) {
    const days = everyDay(from.value, to.value, st.daily || []);
    const byDate = new Map((st.daily || []).map((d) => [d.date, d]));
    const daily = days.map((date) => byDate.get(date) || { date });
    mount(body,
      h('div', { class: 'kpis' },
        kpi('发布信息', String(st.listings?.total ?? 0), `需求 ${st.requests ?? 0} 条`),
        kpi('匹配率', fmtPct(st.match_rate), `${st.requests_matched ?? 0} 条需求获得匹配`),
        kpi('首个匹配用时（中位）', fmtDuration(st.median_secs_to_first_match)),
        kpi('达成用时（中位）', fmtDuration(st.median_secs_to_agreement), `达成 ${st.agreed_matches ?? 0} 对`),
        kpi('内循环率（按对数）', fmtPct(st.in_park_rate), `园区内达成 ${st.agreed_in_park ?? 0} / ${st.agreed_matches ?? 0} 对`),
        kpi('内循环率（按金额）', fmtPct(st.funnel?.in_park_rate_by_value),
          `园区内 ${fmtYuan(st.funnel?.agreed_value_in_park_yuan)} / ${fmtYuan(st.funnel?.agreed_value_yuan)}`),
        kpi('紧急求助按时解决', fmtPct(st.emergency_sla_rate), `${st.emergencies_solved_within_sla ?? 0} / ${st.emergencies ?? 0} 件`)),
      funnelCard(st.funnel),
      h('div', { class: 'card' }, h('h2', null, '每日趋势'),
        (st.daily || []).length ? lineChart(days, [
          { label: '发布', values: daily.map((d) => d.listings ?? 0) },
          { label: '需求', values: daily.map((d) => d.requests ?? 0) },
          { label: '获得匹配', values: daily.map((d) => d.matched ?? 0) },
          { label: '达成', values: daily.map((d) => d.agreed ?? 0) },
        ]) : h('p', { class: 'muted' }, '该时段没有数据。')),
      h('div', { class: 'card' }, h('h2', null, '分类供需'),
        (st.listings?.by_kind || []).length
          ? stackedBars(st.listings.by_kind.map((k) => ({ label: label(KIND, k.kind), parts: [k.offer ?? 0, k.request ?? 0] })), ['供给', '需求'])
          : h('p', { class: 'muted' }, '该时段没有数据。')),
      slaCard(sla));
  }

  /**
   * The deal funnel: one bar per stage, its width the share of the suggested
   * pairs, with the count and the conversion from the stage before.
   */
  function funnelCard(f) {
    const stages = FUNNEL.map(([key, name]) => ({ key, name, n: f?.[key] ?? 0 }));
    const top = stages[0].n;
    return h('div', { class: 'card', id: 'funnel' },
      h('div', { class: 'card-head' }, h('h2', null, '成交漏斗'),
        h('span', { class: 'muted small' }, '该时段产生的匹配记录走到了哪一步')),
      top ? h('ol', { class: 'funnel' }, stages.map((s, i) => {
        const prev = i ? stages[i - 1].n : null;
        // Set through the CSSOM: the console's CSP refuses style attributes.
        const bar = h('span', { class: `funnel-bar funnel-bar-${i}` });
        bar.style.width = `${Math.max(s.n ? 2 : 0, (s.n / top) * 100).toFixed(1)}%`;
        return h('li', { class: 'funnel-step', dataset: { stage: s.key, count: String(s.n) } },
          h('span', { class: 'funnel-name' }, s.name),
          h('span', { class: 'funnel-track' }, bar),
          h('strong', { class: 'funnel-count' }, String(s.n)),
          h('span', { class: 'funnel-rate muted small' }, prev === null ? '' : `较上一步 ${prev ? fmtPct(s.n / prev) : '—'}`));
      })) : h('p', { class: 'muted' }, '该时段没有匹配记录。'),
      h('dl', { class: 'facts funnel-value' },
        h('dt', null, '成交金额'), h('dd', { id: 'agreed-value' }, fmtYuan(f?.agreed_value_yuan)),
        h('dt', null, '其中园区内'), h('dd', null, fmtYuan(f?.agreed_value_in_park_yuan)),
        h('dt', null, '内循环率（按金额）'), h('dd', { id: 'in-park-by-value' }, fmtPct(f?.in_park_rate_by_value))),
      h('p', { class: 'muted small' }, '成交金额只计双方确认且未取消、能算出总价的成交。'));
  }

  function slaCard(sla) {
    const rows = sla?.by_urgency || [];
    return h('div', { class: 'card', id: 'sla' }, h('h2', null, '响应时限达成情况'),
      rows.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'data-table' },
        h('thead', null, h('tr', null, h('th', null, '紧急程度'), h('th', null, '工单'), h('th', null, '已结案'), h('th', null, '当前超时'),
          ['claim', 'contact', 'resolve'].map((k) => h('th', null, `${SLA_STEP[k]}达标率`)))),
        h('tbody', null, rows.map((r) => h('tr', null,
          h('th', null, label(URGENCY, r.urgency)), h('td', null, String(r.cases)), h('td', null, String(r.resolved)), h('td', null, String(r.overdue_now)),
          ['claim', 'contact', 'resolve'].map((k) => {
            const s = r[k] || {};
            return h('td', null, rateBar(s.rate, { target: 0.9 }),
              h('div', { class: 'small' }, `${fmtPct(s.rate)}（${s.within_target ?? 0}/${s.done ?? 0}）`),
              h('div', { class: 'muted small' }, `中位 ${fmtDuration(s.median_secs)} · P90 ${fmtDuration(s.p90_secs)} · 目标 ${fmtDuration(s.target_secs)}`));
          })))))) : h('p', { class: 'muted' }, '该时段没有工单。'));
  }

  async function download() {
    const resp = await api.fetchRaw('GET', '/api/v1/staff/stats', { query: { ...range(), format: 'csv' }, accept: 'text/csv' });
    const blob = await resp.blob();
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `统计_${from.value}_${to.value}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  load();
  return { el };
}
