// Listing search for staff: the full-text search of the API with its
// filters, highlights and kind facets.

import { api } from '../api.js';
import { h, mount, errorBox, empty, label, highlighted, fmtAmount, fmtTime, urgencyBadge, badge, KIND, SIDE, URGENCY } from '../ui.js';

export function searchView() {
  const st = { items: [], cursor: null, query: {} };
  const q = h('input', { type: 'search', name: 'q', placeholder: '例如：注塑机 夜班、冷库、叉车', 'aria-label': '关键词' });
  const side = h('select', { name: 'side', 'aria-label': '供需' }, h('option', { value: '' }, '供给与需求'),
    Object.entries(SIDE).map(([v, t]) => h('option', { value: v }, t)));
  const kind = h('select', { name: 'kind', 'aria-label': '类别' }, h('option', { value: '' }, '全部类别'),
    Object.entries(KIND).map(([v, t]) => h('option', { value: v }, t)));
  const urgency = h('select', { name: 'urgency', 'aria-label': '紧急程度' }, h('option', { value: '' }, '全部紧急程度'),
    Object.entries(URGENCY).map(([v, t]) => h('option', { value: v }, t)));
  const sort = h('select', { name: 'sort', 'aria-label': '排序' },
    h('option', { value: 'relevance' }, '相关度'), h('option', { value: 'newest' }, '最新'));
  const summary = h('p', { class: 'muted' });
  const facets = h('div', { class: 'facets' });
  const list = h('div', { class: 'hit-list', id: 'hits' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');
  const form = h('form', { class: 'search-form', onsubmit: (e) => { e.preventDefault(); load(); } },
    q, side, kind, urgency, sort, h('button', { class: 'btn btn-primary', type: 'submit' }, '搜索'));
  const el = h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', null, '信息检索')), form, summary, facets, list, h('div', { class: 'more' }, more));

  async function load(append = false) {
    if (!append) {
      st.query = { q: q.value.trim(), side: side.value, kind: kind.value, urgency: urgency.value, sort: sort.value, limit: 20, facets: 'kind' };
    }
    try {
      const page = await api.get('/api/v1/listings/search', { ...st.query, cursor: append ? st.cursor : undefined });
      st.items = append ? st.items.concat(page.items) : page.items;
      st.cursor = page.next_cursor;
      summary.textContent = `共 ${page.total}${page.total_is_exact === false ? '+' : ''} 条`;
      mount(facets, (page.facets?.kind || []).map((f) =>
        h('button', { type: 'button', class: `chip${kind.value === f.value ? ' active' : ''}`, onclick: () => {
          kind.value = kind.value === f.value ? '' : f.value;
          load();
        } }, `${label(KIND, f.value)} ${f.count}`)));
      mount(list, st.items.length ? st.items.map(hit) : empty('没有符合条件的信息。'));
      more.hidden = !st.cursor;
    } catch (e) {
      mount(list, errorBox(e, () => load()));
    }
  }

  function hit(it) {
    const l = it.listing;
    return h('article', { class: 'card hit', dataset: { listingId: l.id } },
      h('div', { class: 'hit-head' },
        badge(label(SIDE, l.side), `side-${l.side}`), badge(label(KIND, l.kind), 'muted'),
        l.urgency !== 'normal' && urgencyBadge(l.urgency),
        h('strong', { class: 'hit-title' }, highlighted(it.highlights?.title || l.title))),
      it.highlights?.description && h('p', { class: 'hit-desc' }, highlighted(it.highlights.description)),
      h('div', { class: 'muted small' },
        [l.firm?.name, l.community?.name, l.quantity && `数量 ${fmtAmount(l.quantity)}`, l.price && `价格 ${fmtAmount(l.price)}`,
          it.distance_km != null && `${it.distance_km.toFixed(1)} km`, `发布于 ${fmtTime(l.created_at)}`].filter(Boolean).join(' · ')));
  }

  load();
  return { el };
}
