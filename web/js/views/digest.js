// The digest of open needs: the community's open requests of the last days
// as one message to paste into the park's WeChat groups (复制), and as a
// sheet to print for the notice board, each with its short link and the
// visits it has had.

import { api } from '../api.js';
import { h, mount, errorBox, busy, toast, fmtTime, urgencyBadge, label, KIND } from '../ui.js';

export function digestView() {
  const days = h('select', { name: 'days', id: 'digest-days', 'aria-label': '时间范围' },
    [[1, '近 1 天'], [3, '近 3 天'], [7, '近 7 天'], [14, '近 14 天'], [30, '近 30 天']].map(([v, t]) =>
      h('option', { value: String(v), selected: v === 7 }, t)));
  const kind = h('select', { name: 'kind', id: 'digest-kind', 'aria-label': '类别' },
    h('option', { value: '' }, '全部类别'),
    Object.entries(KIND).map(([v, t]) => h('option', { value: v }, t)));
  const text = h('textarea', { id: 'digest-text', rows: 12, readonly: true, 'aria-label': '速递文本' });
  const copy = h('button', { class: 'btn btn-primary', type: 'button', id: 'digest-copy', onclick: copyText }, '复制文本');
  const print = h('button', { class: 'btn', type: 'button', id: 'digest-print', onclick: () => window.print() }, '打印');
  const sheet = h('div', { id: 'digest-sheet', class: 'digest-sheet' }, h('p', { class: 'muted' }, '正在整理…'));
  const el = h('section', { class: 'page digest' },
    h('div', { class: 'page-head no-print' }, h('h1', null, '供需速递'),
      h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); load(); } },
        days, kind, h('button', { class: 'btn', type: 'submit' }, '刷新'))),
    h('p', { class: 'muted no-print' },
      '本社区近期仍在寻找帮助的需求（紧急、加急在前）。复制文本发到园区企业微信群，或打印张贴；每条带短链接，企业点开即可在智企连查看并联系。'),
    h('div', { class: 'card no-print' },
      h('div', { class: 'card-head' }, h('h2', null, '微信群文本'), h('div', { class: 'form-actions' }, copy, print)),
      text),
    sheet);
  days.onchange = load;
  kind.onchange = load;

  async function copyText() {
    text.select();
    try {
      await navigator.clipboard.writeText(text.value);
    } catch {
      // Without clipboard access (plain http), the selected text is copied
      // the old way.
      document.execCommand('copy');
    }
    toast('已复制，可粘贴到微信群', 'ok');
  }

  async function load() {
    try {
      const d = await api.get('/api/v1/staff/digest', { days: days.value, kind: kind.value || undefined });
      text.value = d.text;
      text.rows = Math.min(18, Math.max(4, d.text.split('\n').length + 1));
      render(d);
    } catch (e) {
      mount(sheet, errorBox(e, load));
    }
  }

  function render(d) {
    const head = h('div', { class: 'digest-head' },
      h('h2', null, `${d.community_name} · 供需速递`),
      h('p', { class: 'muted' }, `${fmtTime(d.since)} 至 ${fmtTime(d.generated_at)}，共 ${d.items.length} 条需求`));
    if (!d.items.length) {
      mount(sheet, head, h('p', { class: 'empty' }, '这段时间没有仍在寻找帮助的需求。'));
      return;
    }
    mount(sheet, head,
      h('div', { class: 'table-scroll' }, h('table', { class: 'data-table digest-table' },
        h('thead', null, h('tr', null,
          h('th', null, '#'), h('th', null, '需求'), h('th', null, '类别'), h('th', null, '尚需'),
          h('th', null, '发布'), h('th', null, '链接'), h('th', { class: 'no-print' }, '点开'))),
        h('tbody', null, d.items.map((it, i) => h('tr', { dataset: { listingId: it.listing_id } },
          h('td', null, String(i + 1)),
          h('td', null, it.urgency !== 'normal' ? urgencyBadge(it.urgency) : null, ' ', it.title),
          h('td', null, label(KIND, it.kind)),
          h('td', null, it.remaining || '—'),
          h('td', null, fmtTime(it.created_at)),
          h('td', null, h('a', { href: it.short_url, target: '_blank', rel: 'noopener' }, it.short_url)),
          h('td', { class: 'no-print num' }, String(it.clicks))))))));
  }

  load();
  return { el };
}
