// The community's audit log, newest first: every staff action with who did
// it, when, and on what.

import { api } from '../api.js';
import { h, mount, errorBox, empty, label, fmtTime, AUDIT_ACTION, OUTCOME } from '../ui.js';

const SUBJECT = { firm: '企业', thread: '会话', listing: '信息', case: '工单', match: '匹配', api_client: '接口客户端', webhook: 'webhook' };

/** The detail of an entry in words; ids are left out, communities named. */
function describe(detail, communities) {
  const parts = [];
  const community = (id) => communities.get(id) || id;
  for (const [k, v] of Object.entries(detail || {})) {
    if (v === null || v === undefined || v === '') continue;
    if (k === 'name') parts.push(`企业：${v}`);
    else if (k === 'outcome') parts.push(`结果：${label(OUTCOME, v)}`);
    else if (k === 'note') parts.push(`说明：${v}`);
    else if (k === 'message') parts.push(`留言：${v}`);
    else if (k === 'offer_ids' && Array.isArray(v)) parts.push(`供给 ${v.length} 个`);
    else if (k === 'from') parts.push(`自：${community(v)}`);
    else if (k === 'to') parts.push(`转至：${community(v)}`);
    else if (k === 'client') parts.push(`客户端：${v}`);
    else if (k === 'url') parts.push(`地址：${v}`);
    else if (k === 'previous_claimant') parts.push('接手他人认领的工单');
  }
  return parts.join('；');
}

export function auditView() {
  const st = { items: [], cursor: null };
  const action = h('select', { name: 'action', 'aria-label': '操作类型', onchange: () => load() },
    h('option', { value: '' }, '全部操作'),
    Object.entries(AUDIT_ACTION).map(([v, t]) => h('option', { value: v }, t)));
  const caseId = h('input', { name: 'case_id', placeholder: '工单编号', 'aria-label': '工单编号' });
  const rows = h('tbody');
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '审计日志')),
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); load(); } },
      action, caseId, h('button', { class: 'btn btn-primary', type: 'submit' }, '筛选')),
    h('div', { class: 'table-scroll' }, h('table', { class: 'data-table', id: 'audit' },
      h('thead', null, h('tr', null, h('th', null, '时间'), h('th', null, '人员'), h('th', null, '操作'), h('th', null, '对象'), h('th', null, '详情'))),
      rows)),
    h('div', { class: 'more' }, more));

  let communities = null;

  async function load(append = false) {
    try {
      if (!communities) {
        const list = await api.get('/api/v1/communities').catch(() => ({ items: [] }));
        communities = new Map(list.items.map((c) => [c.id, c.name]));
      }
      const page = await api.get('/api/v1/staff/audit', {
        action: action.value, case_id: caseId.value.trim(), limit: 50, cursor: append ? st.cursor : undefined,
      });
      st.items = append ? st.items.concat(page.items) : page.items;
      st.cursor = page.next_cursor;
      mount(rows, st.items.length ? st.items.map(row) : h('tr', null, h('td', { colspan: 5 }, empty('暂无记录。'))));
      more.hidden = !st.cursor;
    } catch (e) {
      mount(rows, h('tr', null, h('td', { colspan: 5 }, errorBox(e, () => load()))));
    }
  }

  function row(a) {
    const subject = a.case_id
      ? h('a', { href: `#/case/${encodeURIComponent(a.case_id)}` }, '工单')
      : label(SUBJECT, a.subject?.type);
    return h('tr', null,
      h('td', { class: 'nowrap' }, fmtTime(a.at)),
      h('td', { class: 'nowrap' }, a.actor?.name || '系统'),
      h('td', { class: 'nowrap' }, label(AUDIT_ACTION, a.action)),
      h('td', { class: 'nowrap' }, subject),
      h('td', { class: 'small' }, describe(a.detail, communities)));
  }

  load();
  return { el };
}
