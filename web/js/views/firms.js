// Firm verification: firms of the community waiting to be verified (or the
// verified ones), with their registration facts, verified with one click.

import { api } from '../api.js';
import { h, mount, errorBox, empty, busy, toast, fmtTime, badge } from '../ui.js';

export function firmsView() {
  const st = { verified: 'false', items: [], cursor: null };
  const list = h('div', { class: 'firm-list', id: 'firms' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');
  const which = h('select', { 'aria-label': '认证状态', onchange: () => { st.verified = which.value; load(); } },
    h('option', { value: 'false' }, '待认证'),
    h('option', { value: 'true' }, '已认证'));
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '企业认证'), which),
    h('p', { class: 'muted' }, '核对统一社会信用代码、地址与联系人后认证。认证后企业发布的信息对其他企业可见。'),
    list, h('div', { class: 'more' }, more));

  async function load(append = false) {
    try {
      const page = await api.get('/api/v1/firms', { verified: st.verified, limit: 30, cursor: append ? st.cursor : undefined });
      st.items = append ? st.items.concat(page.items) : page.items;
      st.cursor = page.next_cursor;
      render();
    } catch (e) {
      mount(list, errorBox(e, () => load()));
    }
  }

  function render() {
    mount(list, st.items.length ? st.items.map(card) : empty(st.verified === 'false' ? '没有待认证的企业。' : '暂无已认证企业。'));
    more.hidden = !st.cursor;
  }

  // Other registrations claiming the same USCC: staff compare them before
  // verifying one (which refuses the others).
  const CLAIM = { pending: '待认证', verified: '已认证', refused: '已拒绝' };
  function competing(f) {
    const others = f.competing_claims || [];
    if (!others.length) return [];
    return [h('dt', null, '争用同一代码'), h('dd', { class: 'competing' },
      others.map((c) => `${c.name}（${c.contact_name} ${c.contact_phone}，${CLAIM[c.claim_status] || c.claim_status}）`).join('；'))];
  }

  function card(f) {
    let action;
    if (f.verified) action = badge(`已认证 ${fmtTime(f.verified_at)}`, 'ok');
    else if (f.claim_status === 'refused') action = badge('已拒绝：同一信用代码的另一家企业已认证', 's-open');
    else {
      action = h('button', { class: 'btn btn-primary', type: 'button', dataset: { action: 'verify' }, onclick: (e) => busy(e.currentTarget, async () => {
        await api.post(`/api/v1/firms/${f.id}/verify`);
        toast(`已认证：${f.name}`, 'ok');
        // Competing claims were refused with it: read the list again.
        load();
      }) }, '认证');
    }
    return h('article', { class: 'card firm', dataset: { firmId: f.id } },
      h('div', { class: 'card-head' }, h('h2', null, f.name), action),
      h('dl', { class: 'facts' },
        h('dt', null, '信用代码'), h('dd', null, h('code', null, f.uscc)),
        ...competing(f),
        h('dt', null, '地址'), h('dd', null, f.address || '—'),
        h('dt', null, '联系人'), h('dd', null, f.contact_name || '—'),
        h('dt', null, '电话'), h('dd', null, f.contact_phone || '—'),
        h('dt', null, '注册时间'), h('dd', null, fmtTime(f.created_at))));
  }

  load();
  return {
    el,
    onEvent(type, data) {
      if (type === 'notification' && data?.type === 'firm.verified') load();
    },
  };
}
