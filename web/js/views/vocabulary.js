// The park's vocabulary (词库): the dictionary words and synonym groups this
// park added to the shipped vocabulary, add and remove, undo the last
// change, the progress of the background re-index that applies a change,
// and suggestions from the park's own listings, each accepted (or not) by a
// person: nothing enters the vocabulary unreviewed.

import { api, errorText } from '../api.js';
import { h, mount, errorBox, empty, busy, toast, fmtTime, badge } from '../ui.js';

const KIND = { word: '词典词', synonyms: '同义词组' };
const CHANGE = { add: '添加', remove: '删除' };

export function vocabularyView(ctx) {
  const admin = ctx.me.roles.includes('platform_admin');
  const st = { community: admin ? '' : ctx.me.staff?.community_id || '', polling: null, version: 0 };
  const query = () => (admin ? { community_id: st.community || undefined } : {});
  const body = (b) => (admin ? { ...b, community_id: st.community } : b);

  const park = h('select', { id: 'vocab-community', 'aria-label': '社区', hidden: !admin,
    onchange: () => { st.community = park.value; load(); } });
  const kind = h('select', { id: 'vocab-kind', 'aria-label': '类型', onchange: () => hint() },
    Object.entries(KIND).map(([v, t]) => h('option', { value: v }, t)));
  const terms = h('input', { id: 'vocab-terms', maxlength: 200, required: true, 'aria-label': '词' });
  const hintText = h('p', { class: 'muted small', id: 'vocab-hint' });
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'toolbar', id: 'vocab-form', onsubmit: (e) => {
    e.preventDefault();
    busy(addButton, add);
  } },
  h('label', null, '类型', kind), h('label', { class: 'grow' }, '词', terms));
  const addButton = h('button', { class: 'btn btn-primary', type: 'submit', id: 'vocab-add' }, '添加');
  form.append(addButton);
  const undoButton = h('button', { class: 'btn', type: 'button', id: 'vocab-undo',
    onclick: (e) => busy(e.currentTarget, undo) }, '撤销上一次变更');
  const entries = h('div', { id: 'vocab-entries' });
  const changes = h('div', { id: 'vocab-changes' });
  const progress = h('div', { id: 'vocab-reindex' });
  const suggestions = h('div', { id: 'vocab-suggestions' });
  const suggestButton = h('button', { class: 'btn', type: 'button', id: 'vocab-suggest',
    onclick: (e) => busy(e.currentTarget, suggest) }, '从本社区信息中发现新词');

  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '词库'), park),
    h('p', { class: 'muted' },
      '本社区的行业用词：添加后检索与撮合都能认出它们。词典词让系统把一个词当成整体（如“辊道窑”）；同义词组让任一个词都能找到用其他叫法发布的信息（如“炮头 / 破碎锤”）。',
      '词条对整个平台生效（系统只有一套分词），由本社区管理；每次变更都写入审计日志，可以撤销。'),
    h('div', { class: 'card' }, h('h2', null, '添加'), form, hintText, formError),
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', null, '重建索引')), progress),
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', null, '本社区词条'), undoButton), entries),
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', null, '建议'), suggestButton),
      h('p', { class: 'muted small' }, '根据本社区在架信息统计：分词时被拆开的常用词、用法相近的两种叫法。请逐条确认后再采纳。'),
      suggestions),
    h('div', { class: 'card' }, h('h2', null, '最近变更'), changes));

  function hint() {
    terms.placeholder = kind.value === 'word' ? '如：辊道窑' : '如：炮头 破碎锤（用空格分开）';
    hintText.textContent = kind.value === 'word'
      ? '一次一个词，须含汉字、至少两个字、最多 20 个字。'
      : '两个或更多不同的叫法，用空格分开；每个词最多 20 个字。';
  }

  async function add() {
    formError.hidden = true;
    const list = terms.value.split(/[\s/,，、]+/).filter(Boolean);
    try {
      const out = await api.post('/api/v1/staff/vocabulary', body({ kind: kind.value, terms: kind.value === 'word' ? [terms.value.trim()] : list }));
      toast(`已添加${KIND[out.entry.kind]}：${out.entry.terms.join(' / ')}，正在重建索引`, 'ok');
      terms.value = '';
      await load();
    } catch (e) {
      formError.textContent = errorText(e);
      formError.hidden = false;
    }
  }

  async function remove(entry) {
    await api.request('DELETE', `/api/v1/staff/vocabulary/${encodeURIComponent(entry.id)}`, { query: query() });
    toast(`已删除：${entry.terms.join(' / ')}（可撤销）`, 'ok');
    await load();
  }

  async function undo() {
    const out = await api.post('/api/v1/staff/vocabulary/undo', body({}));
    toast(`已撤销${CHANGE[out.undone.action] || ''}：${out.undone.terms.join(' / ')}`, 'ok');
    await load();
  }

  async function accept(s, button) {
    await api.post('/api/v1/staff/vocabulary', body({ kind: s.kind, terms: s.terms, from_suggestion: true }));
    toast(`已采纳：${s.terms.join(' / ')}`, 'ok');
    button.closest('li')?.classList.add('accepted');
    button.replaceWith(badge('已采纳', 'ok'));
    await load();
  }

  async function suggest() {
    mount(suggestions, h('p', { class: 'muted' }, '正在统计…'));
    try {
      const out = await api.get('/api/v1/staff/vocabulary/suggestions', query());
      mount(suggestions, out.suggestions.length
        ? h('ul', { class: 'vocab-suggestions' }, out.suggestions.map((s) => {
          const button = h('button', { class: 'btn btn-small btn-primary', type: 'button', dataset: { accept: s.terms.join('/') },
            onclick: (e) => busy(e.currentTarget, () => accept(s, e.currentTarget)) }, '采纳');
          return h('li', { dataset: { kind: s.kind } },
            badge(KIND[s.kind], s.kind === 'word' ? 'staff' : ''),
            h('strong', null, s.terms.join(' / ')),
            h('span', { class: 'muted small' }, s.reason),
            button);
        }))
        : empty(`已读取 ${out.listings} 条在架信息，暂无建议。`));
    } catch (e) {
      mount(suggestions, errorBox(e, suggest));
    }
  }

  function showProgress(s) {
    const label = s.running
      ? `正在重建索引：${s.done} / ${s.total} 条（期间检索照常可用）`
      : s.up_to_date
        ? `索引已是最新（词库版本 ${s.version}${s.finished_at ? `，完成于 ${fmtTime(s.finished_at)}` : ''}）`
        : '等待重建索引…';
    mount(progress,
      h('progress', { id: 'vocab-progress', max: String(Math.max(s.total, 1)),
        value: String(s.up_to_date ? Math.max(s.total, 1) : s.done) }),
      h('p', { id: 'vocab-progress-text', dataset: { state: s.up_to_date ? 'done' : 'running' } }, label));
  }

  async function poll() {
    clearTimeout(st.polling);
    try {
      const s = await api.get('/api/v1/staff/vocabulary/reindex', query());
      showProgress(s);
      if (!s.up_to_date) st.polling = setTimeout(poll, 300);
    } catch (e) {
      mount(progress, errorBox(e, poll));
    }
  }

  function entryRow(e) {
    return h('tr', { dataset: { entryId: e.id } },
      h('td', null, KIND[e.kind] || e.kind),
      h('td', null, h('strong', null, e.terms.join(' / '))),
      h('td', { class: 'muted small' }, fmtTime(e.created_at)),
      h('td', null, h('button', { class: 'btn btn-small', type: 'button', dataset: { remove: e.id },
        onclick: (ev) => busy(ev.currentTarget, () => remove(e)) }, '删除')));
  }

  async function load() {
    if (admin && !st.community) {
      mount(entries, empty('请选择社区。'));
      return;
    }
    try {
      const v = await api.get('/api/v1/staff/vocabulary', query());
      st.version = v.version;
      mount(entries, v.entries.length
        ? h('table', { class: 'data-table', id: 'vocab-table' },
          h('thead', null, h('tr', null, h('th', null, '类型'), h('th', null, '词'), h('th', null, '添加时间'), h('th', null, ''))),
          h('tbody', null, v.entries.map(entryRow)))
        : empty('本社区还没有添加词条，目前使用系统自带词库。'));
      mount(changes, v.changes.length
        ? h('ul', { class: 'vocab-changes' }, v.changes.map((c) => h('li', null,
          h('span', null, `${CHANGE[c.action] || c.action}${KIND[c.kind] || ''}：${c.terms.join(' / ')}`),
          h('span', { class: 'muted small' }, ` ${fmtTime(c.at)}`),
          c.undone_at && badge('已撤销', ''))))
        : empty('暂无变更。'));
      undoButton.disabled = !v.changes.some((c) => !c.undone_at);
      poll();
    } catch (e) {
      mount(entries, errorBox(e, load));
    }
  }

  async function parks() {
    try {
      const page = await api.get('/api/v1/communities');
      mount(park, h('option', { value: '' }, '选择社区'), page.items.map((c) => h('option', { value: c.id }, c.name)));
    } catch (e) {
      toast(`无法读取社区列表：${e.message}`, 'error');
    }
  }

  hint();
  if (admin) parks();
  load();
  return { el, destroy: () => clearTimeout(st.polling) };
}
