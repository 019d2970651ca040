// The case queue of the staff member's community, oldest first, refreshed
// live when cases are opened or change.

import { api } from '../api.js';
import {
  h, mount, errorBox, empty, label, debounce, fmtAgo, fmtScore, urgencyBadge, statusBadge,
  KIND, SLA_STEP, CASE_STATUS,
} from '../ui.js';
import { clock, currentStep, tick } from './sla.js';

const FILTERS = [
  ['active', '未结案'],
  ['open', CASE_STATUS.open],
  ['claimed', CASE_STATUS.claimed],
  ['brokered', CASE_STATUS.brokered],
  ['resolved', CASE_STATUS.resolved],
];

export function queueView(ctx, community) {
  // A district administrator (or a platform admin) reads one community's queue.
  const state = { status: 'active', urgency: '', overdue: false, mine: false, items: [], cursor: null, known: null };
  const counts = h('div', { class: 'counts' });
  const list = h('div', { id: 'queue', class: 'case-list', 'aria-live': 'polite' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');

  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    FILTERS.map(([value, text]) =>
      h('button', {
        type: 'button', role: 'tab', class: 'tab', dataset: { status: value },
        'aria-selected': String(value === state.status),
        onclick: () => {
          state.status = value;
          for (const t of tabs.children) t.setAttribute('aria-selected', String(t.dataset.status === value));
          load();
        },
      }, text)));

  const urgency = h('select', { 'aria-label': '紧急程度', onchange: () => { state.urgency = urgency.value; load(); } },
    h('option', { value: '' }, '全部紧急程度'),
    h('option', { value: 'emergency' }, '紧急'),
    h('option', { value: 'urgent' }, '加急'));
  const overdue = h('input', { type: 'checkbox', onchange: () => { state.overdue = overdue.checked; load(); } });
  const mine = h('input', { type: 'checkbox', onchange: () => { state.mine = mine.checked; load(); } });

  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('h1', null, '工单队列', community && h('span', { class: 'muted small', id: 'queue-community' })),
      counts),
    h('div', { class: 'toolbar' }, tabs,
      h('div', { class: 'filters' },
        urgency,
        h('label', { class: 'check' }, overdue, '仅超时'),
        h('label', { class: 'check' }, mine, '我认领的'))),
    list,
    h('div', { class: 'more' }, more));

  function row(c) {
    const step = currentStep(c);
    const cands = c.candidates || [];
    const best = cands[0];
    return h('a', {
      class: `case-row urgency-${c.urgency}${c.sla?.overdue ? ' is-overdue' : ''}${state.known && !state.known.has(c.id) ? ' is-new' : ''}`,
      href: `#/case/${encodeURIComponent(c.id)}`,
      dataset: { caseId: c.id, status: c.status },
    },
    h('div', { class: 'case-main' },
      h('div', { class: 'case-badges' }, urgencyBadge(c.urgency), statusBadge(c.status),
        c.escalated_from && h('span', { class: 'badge badge-muted' }, `由${c.escalated_from.name}转来`)),
      h('div', { class: 'case-title' }, c.listing?.title || '（无标题）'),
      h('div', { class: 'case-meta muted' },
        [c.firm?.name, label(KIND, c.listing?.kind), `${fmtAgo(c.opened_at)}提交`,
          c.claimed_by && `认领：${c.claimed_by.name}`].filter(Boolean).join(' · '))),
    h('div', { class: 'case-side' },
      step ? clock(c.sla[step], SLA_STEP[step]) : h('span', { class: 'muted' }, '已结案'),
      h('span', { class: 'muted small' },
        cands.length ? `候选 ${cands.length} 个，最高 ${fmtScore(best.score)} 分` : '暂无候选')));
  }

  async function load(append = false) {
    if (!append) state.cursor = null;
    try {
      const page = await api.get('/api/v1/staff/queue', {
        community_id: community,
        status: state.status,
        urgency: state.urgency,
        overdue: state.overdue || undefined,
        mine: state.mine || undefined,
        limit: 50,
        cursor: append ? state.cursor : undefined,
      });
      state.items = append ? state.items.concat(page.items) : page.items;
      state.cursor = page.next_cursor;
      render(page.counts);
      const named = community && page.items[0]?.community?.name;
      if (named) mount(el.querySelector('#queue-community'), ` · ${named}`);
      state.known = new Set(state.items.map((c) => c.id));
    } catch (e) {
      mount(list, errorBox(e, () => load()));
    }
  }

  function render(c) {
    if (c) {
      mount(counts,
        h('span', { class: 'count-pill s-open' }, `待认领 ${c.open ?? 0}`),
        h('span', { class: 'count-pill s-claimed' }, `处理中 ${c.claimed ?? 0}`),
        h('span', { class: 'count-pill s-brokered' }, `已撮合 ${c.brokered ?? 0}`),
        h('span', { class: `count-pill ${c.overdue ? 'is-over' : ''}` }, `超时 ${c.overdue ?? 0}`));
    }
    mount(list, state.items.length ? state.items.map(row) : empty('队列中没有工单。新的紧急求助会实时出现在这里。'));
    list.dataset.loaded = 'true';
    more.hidden = !state.cursor;
  }

  const reload = debounce(() => load(), 250);
  const ticker = setInterval(() => tick(list), 1000);
  load();

  return {
    el,
    onEvent(type) {
      if (type === 'case.opened' || type === 'case.updated' || type === 'match.created') reload();
    },
    onLiveState(s) {
      if (s === 'open') reload();
    },
    destroy() {
      clearInterval(ticker);
    },
  };
}
