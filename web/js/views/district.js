// 区域: the communities of the district administrator's districts side by
// side over a date window — listings, deals, 内循环率 by count and by
// value, open cases and SLA attainment — with a bar chart of in-park and
// cross-park deals, linking into each community's queue and staff.

import { api } from '../api.js';
import { h, mount, errorBox, empty, fmtPct, cstDate } from '../ui.js';
import { stackedBars, rateBar } from '../charts.js';

const yuan = (v) => `${Number(v || 0).toLocaleString('zh-CN', { maximumFractionDigits: 0 })} 元`;

export function districtView(ctx) {
  const admin = ctx.me.roles.includes('platform_admin');
  const today = new Date();
  const from = h('input', { type: 'date', name: 'from', value: cstDate(new Date(today.getTime() - 29 * 86_400_000)) });
  const to = h('input', { type: 'date', name: 'to', value: cstDate(today) });
  // Platform admins pick a district; district administrators see theirs.
  const pick = h('select', { name: 'district', 'aria-label': '区域', hidden: !admin, onchange: () => load() });
  const body = h('div', { id: 'district' }, h('p', { class: 'muted' }, '正在统计…'));
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '区域对比')),
    h('form', { class: 'toolbar range', onsubmit: (e) => { e.preventDefault(); load(); } },
      pick, h('label', null, '从', from), h('label', null, '到', to),
      h('button', { class: 'btn btn-primary', type: 'submit' }, '查询')),
    body);

  async function districts() {
    if (!admin || pick.options.length) return;
    const list = await api.get('/api/v1/districts');
    mount(pick, list.items.map((d) => h('option', { value: d.id }, d.name)));
  }

  async function load() {
    try {
      await districts();
      if (admin && !pick.value) {
        mount(body, empty('还没有区域。请在「社区」页面创建区域并划入社区。'));
        return;
      }
      const st = await api.get('/api/v1/district/stats', { from: from.value, to: to.value, district_id: admin ? pick.value : undefined });
      render(st);
    } catch (e) {
      mount(body, errorBox(e, load));
    }
  }

  function pct(rate, sub) {
    return h('td', null, rateBar(rate, { target: 0.5 }), h('div', { class: 'small' }, fmtPct(rate)), sub && h('div', { class: 'muted small' }, sub));
  }

  function attain(a) {
    return h('td', null, rateBar(a?.rate, { target: 0.9 }), h('div', { class: 'small' }, `${fmtPct(a?.rate)}（${a?.within_target ?? 0}/${a?.done ?? 0}）`));
  }

  function render(st) {
    const rows = st.items || [];
    if (!rows.length) {
      mount(body, empty('该区域还没有社区。'));
      return;
    }
    mount(body,
      h('div', { class: 'card' }, h('h2', null, '各社区对比'),
        h('div', { class: 'table-scroll' }, h('table', { class: 'data-table', id: 'district-table' },
          h('thead', null, h('tr', null,
            ['社区', '发布信息', '需求', '达成对接', '内循环率（数量）', '达成金额', '内循环率（金额）', '未结工单', '认领达标率', '结案达标率', '']
              .map((t) => h('th', null, t)))),
          h('tbody', null, rows.map((r) => h('tr', { dataset: { community: r.community.id } },
            h('th', null, r.community.name),
            h('td', null, String(r.listings)),
            h('td', null, String(r.requests)),
            h('td', null, String(r.agreed_matches), h('div', { class: 'muted small' }, `园区内 ${r.agreed_in_park}`)),
            pct(r.in_park_rate),
            h('td', { class: 'nowrap' }, yuan(r.agreed_value_yuan), h('div', { class: 'muted small' }, `园区内 ${yuan(r.agreed_value_in_park_yuan)}`)),
            pct(r.in_park_rate_by_value),
            h('td', null, String(r.open_cases), r.overdue_cases ? h('div', { class: 'small over' }, `超时 ${r.overdue_cases}`) : null),
            attain(r.sla?.claim),
            attain(r.sla?.resolve),
            h('td', { class: 'nowrap' },
              h('a', { href: `#/queue/${encodeURIComponent(r.community.id)}`, dataset: { action: 'queue' } }, '工单队列'), ' · ',
              h('a', { href: `#/staff/${encodeURIComponent(r.community.id)}` }, '工作人员')))))))),
      h('div', { class: 'card' }, h('h2', null, '达成对接：园区内与跨园区'),
        stackedBars(rows.map((r) => ({ label: r.community.name, parts: [r.agreed_in_park, Math.max(0, r.agreed_matches - r.agreed_in_park)] })), ['园区内', '跨园区'])));
    body.dataset.loaded = 'true';
  }

  load();
  return { el };
}
