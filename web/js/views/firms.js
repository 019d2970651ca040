// Firm verification: firms of the community waiting to be verified (or the
// verified ones), with their registration facts, verified with one click;
// and each firm's reputation and the ratings of its deals, where staff hide
// an abusive comment.

import { api } from '../api.js';
import { h, mount, errorBox, empty, busy, toast, dialog, fmtTime, fmtPct, fmtDuration, badge } from '../ui.js';

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
    const deals = h('div', { class: 'firm-deals' });
    const toggle = h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'ratings' }, 'aria-expanded': 'false', onclick: () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? '收起信誉与评价' : '信誉与评价';
      // Open, the card takes the whole row: the ratings need the width.
      toggle.closest('article')?.classList.toggle('is-open', open);
      if (open) loadRatings(f, deals);
      else mount(deals);
    } }, '信誉与评价');
    return h('article', { class: 'card firm', dataset: { firmId: f.id } },
      h('div', { class: 'card-head' }, h('h2', null, f.name), h('div', { class: 'actions' }, toggle, action)),
      h('dl', { class: 'facts' },
        h('dt', null, '信用代码'), h('dd', null, h('code', null, f.uscc)),
        ...competing(f),
        h('dt', null, '地址'), h('dd', null, f.address || '—'),
        h('dt', null, '联系人'), h('dd', null, f.contact_name || '—'),
        h('dt', null, '电话'), h('dd', null, f.contact_phone || '—'),
        h('dt', null, '注册时间'), h('dd', null, fmtTime(f.created_at))),
      deals);
  }

  // ------------------------------------------------- reputation and ratings

  /** The firm's reputation and every published rating of its deals. */
  async function loadRatings(f, box) {
    mount(box, h('p', { class: 'muted' }, '正在加载信誉与评价…'));
    try {
      const [rep, page] = await Promise.all([
        api.get(`/api/v1/firms/${encodeURIComponent(f.id)}/reputation`),
        api.get('/api/v1/agreements', { firm: f.id, status: 'completed', limit: 100 }),
      ]);
      const ratings = page.items.flatMap((a) => (a.ratings?.items || []).map((r) => ({ ...r, agreement: a })));
      mount(box,
        h('h3', null, '信誉'),
        h('div', { class: 'rep-facts', dataset: { reliability: String(rep.reliability) } },
          h('span', null, `评分 ${rep.has_history ? Number(rep.rating).toFixed(1) : '—'}（${rep.ratings} 条，园区均值 ${Number(rep.park_mean_rating).toFixed(1)}）`),
          h('span', null, `完成 ${rep.completed_deals}/${rep.confirmed_deals} 单（${fmtPct(rep.completion_rate)}）`),
          h('span', null, `回复用时中位 ${fmtDuration(rep.median_response_secs)}`)),
        h('h3', null, `评价（${ratings.length}）`),
        ratings.length
          ? h('ul', { class: 'rating-list' }, ratings.map((r) => ratingItem(f, r, box)))
          : empty('暂无公开的评价。'));
    } catch (e) {
      mount(box, errorBox(e, () => loadRatings(f, box)));
    }
  }

  function ratingItem(f, r, box) {
    const received = r.ratee_firm_id === f.id;
    const a = r.agreement;
    const hide = !r.comment_hidden && r.comment && h('button', {
      class: 'btn btn-small', type: 'button', dataset: { action: 'hide-comment' }, onclick: () => hideDialog(f, r, box),
    }, '隐藏评论');
    return h('li', { class: `rating${r.comment_hidden ? ' is-hidden' : ''}`, dataset: { ratingId: r.id, agreementId: a.id } },
      h('div', { class: 'rating-head' },
        h('span', null,
          h('span', { class: 'stars', 'aria-label': `${r.score} 分` }, '★'.repeat(r.score) + '☆'.repeat(5 - r.score)),
          ` ${received ? '收到' : '给出'} · ${a.request?.title || ''} · ${fmtTime(r.published_at || r.created_at)}`,
          ...(r.tags || []).map((t) => [' ', badge(t, 'muted')])),
        hide || null),
      r.comment ? h('p', { class: 'rating-comment' }, r.comment) : h('p', { class: 'muted small' }, '（无评论）'),
      r.comment_hidden && h('p', { class: 'muted small hidden-note' }, `已隐藏 ${fmtTime(r.comment_hidden_at)}：${r.comment_hidden_reason || ''}（企业看不到评论内容，评分仍计入信誉）`));
  }

  function hideDialog(f, r, box) {
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const reason = h('textarea', { id: 'hide-reason', rows: 3, maxlength: 500, placeholder: '例如：含辱骂性语言', oninput: () => { error.hidden = true; } });
    dialog('隐藏评论', h('div', null,
      h('p', { class: 'rating-comment' }, r.comment),
      h('p', { class: 'muted small' }, '隐藏后双方企业只看到评论已被隐藏及原因；评分仍计入信誉。此操作会记入审计日志并通知双方企业。'),
      h('label', null, '原因（必填）', reason), error), (close) =>
      h('button', { class: 'btn btn-primary', type: 'button', id: 'hide-confirm', onclick: (e) => busy(e.currentTarget, async () => {
        if (!reason.value.trim()) {
          error.textContent = '请填写隐藏原因';
          error.hidden = false;
          return;
        }
        await api.post(`/api/v1/agreements/${encodeURIComponent(r.agreement.id)}/ratings/${encodeURIComponent(r.id)}/hide`, { reason: reason.value.trim() });
        close();
        toast('评论已隐藏', 'ok');
        loadRatings(f, box);
      }) }, '确认隐藏'));
  }

  load();
  return {
    el,
    onEvent(type, data) {
      if (type === 'notification' && data?.type === 'firm.verified') load();
    },
  };
}
