// The moderation queue: reports of listings, messages and firms in the
// community, each with the firm's history (reports, actions, suspended),
// and the actions staff take with a reason the firm is told.

import { api } from '../api.js';
import { h, mount, errorBox, empty, busy, toast, fmtTime, badge, dialog } from '../ui.js';

const SUBJECT = { listing: '供需信息', message: '会话消息', firm: '企业' };
const REASON = { spam: '垃圾信息', fraud: '虚假/欺诈', offensive: '不当言论', illegal: '违法违规', wrong_info: '信息有误', other: '其他' };
const STATUS = { open: '待处理', actioned: '已处理', dismissed: '已驳回' };
const ACTION = {
  hide_listing: '隐藏信息',
  remove_message: '删除消息',
  warn_firm: '警告企业',
  suspend_firm: '暂停企业',
  lift_suspension: '恢复企业',
  unverify_firm: '撤销认证',
  dismiss: '驳回举报',
};

/** The actions that fit a report. */
function actionsFor(r) {
  const firm = r.firm.suspended ? ['warn_firm', 'lift_suspension'] : ['warn_firm', 'suspend_firm'];
  if (r.firm.verified) firm.push('unverify_firm');
  const own = r.subject_type === 'listing' ? ['hide_listing'] : r.subject_type === 'message' ? ['remove_message'] : [];
  return [...own, ...firm, 'dismiss'];
}

export function moderationView() {
  const st = { status: 'open', items: [], cursor: null };
  const which = h('select', { 'aria-label': '状态', id: 'moderation-status', onchange: () => { st.status = which.value; load(); } },
    Object.entries(STATUS).map(([v, t]) => h('option', { value: v }, t)),
    h('option', { value: '' }, '全部'));
  const list = h('div', { class: 'mod-list', id: 'moderation' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '举报处理'), which),
    h('p', { class: 'muted' }, '每项处理都会写入审计日志，并把原因通知企业管理员。暂停企业会立即注销其全部账号的登录。'),
    list, h('div', { class: 'more' }, more));

  async function load(append = false) {
    try {
      const page = await api.get('/api/v1/staff/moderation', { status: st.status || undefined, limit: 30, cursor: append ? st.cursor : undefined });
      st.items = append ? st.items.concat(page.items) : page.items;
      st.cursor = page.next_cursor;
      mount(list, st.items.length ? st.items.map(card) : empty('没有待处理的举报。'));
      more.hidden = !st.cursor;
    } catch (e) {
      mount(list, errorBox(e, () => load()));
    }
  }

  function act(r, action) {
    const reason = h('textarea', { name: 'reason', id: 'moderation-reason', rows: 3, maxlength: 500, required: true,
      placeholder: '原因（企业会看到）' });
    dialog(`${ACTION[action]}：${r.firm.name}`, h('label', null, '原因', reason), (close) =>
      h('button', { type: 'button', class: 'btn btn-primary', id: 'moderation-confirm', onclick: (e) => busy(e.currentTarget, async () => {
        const target = action === 'dismiss' ? {} : { target_id: ['warn_firm', 'suspend_firm', 'lift_suspension', 'unverify_firm'].includes(action) ? r.firm_id : r.subject_id };
        await api.post('/api/v1/staff/moderation/actions', { action, report_id: r.id, reason: reason.value.trim(), ...target });
        toast(`${ACTION[action]}：已完成`, 'ok');
        close();
        load();
      }) }, '确定'));
    reason.focus();
  }

  function card(r) {
    const history = h('span', { class: 'muted' }, `该企业累计被举报 ${r.firm.reports} 次，处理 ${r.firm.actions} 次`);
    return h('article', { class: 'card', dataset: { reportId: r.id } },
      h('div', { class: 'card-head' },
        h('h2', null, `${SUBJECT[r.subject_type] || r.subject_type} · ${REASON[r.reason] || r.reason}`),
        badge(STATUS[r.status] || r.status, r.status === 'open' ? 's-open' : 'ok')),
      h('dl', { class: 'facts' },
        h('dt', null, '企业'), h('dd', null, r.firm.name, r.firm.suspended ? badge('已暂停', 's-open') : null,
          r.firm.verified ? badge('已认证', 'ok') : badge('未认证', 's-open')),
        h('dt', null, '举报说明'), h('dd', null, r.text || '—'),
        h('dt', null, '对象编号'), h('dd', null, h('code', null, r.subject_id)),
        h('dt', null, '时间'), h('dd', null, fmtTime(r.created_at)),
        h('dt', null, '历史'), h('dd', null, history),
        r.outcome && [h('dt', null, '处理结果'), h('dd', null, ACTION[r.outcome] || r.outcome)]),
      r.status === 'open' && h('div', { class: 'form-actions' },
        actionsFor(r).map((a) => h('button', { class: a === 'dismiss' ? 'btn' : 'btn btn-primary', type: 'button', dataset: { action: a },
          onclick: () => act(r, a) }, ACTION[a]))));
  }

  load();
  return {
    el,
    onEvent(type, data) {
      if (type === 'notification' && data?.type === 'report.filed') load();
    },
  };
}
