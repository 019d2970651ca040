// The deals of a case's request, as staff follow them: the quotes side by
// side, the agreements with their status, version and history, and the
// form with which staff propose terms for the requesting firm.

import { api, ApiError } from '../api.js';
import {
  h, mount, errorBox, empty, busy, toast, label, fmtTime, fmtAmount, fmtScore, fmtPct, fmtYuan, fmtDuration, badge,
  QUOTE_STATUS, AGREEMENT_STATUS, MATCH_STATUS,
} from '../ui.js';

const SORTS = [
  ['created', '提交时间'],
  ['total_price', '总价从低到高'],
  ['-coverage', '覆盖从高到低'],
  ['-score', '匹配分从高到低'],
  ['-reputation', '信誉从高到低'],
];

const REVEAL = { agreement_confirmed: '成交确认时公开', staff_introduction: '工作人员代提成交时引荐' };

/**
 * One panel per case view, kept across the case's re-renders so that the
 * form keeps what staff typed. `getCase()` reads the case as last loaded,
 * `canAct()` whether the caller may act on it.
 */
export function dealsPanel(caseId, { getCase, canAct }) {
  const st = { sort: 'created', quotes: null, agreements: null, error: null, prefill: null };
  const quotesBox = h('div', { id: 'quotes' }, h('p', { class: 'muted' }, '正在加载报价…'));
  const agreementsBox = h('div', { id: 'agreements' });
  const formBox = h('div', { id: 'propose-box' });
  const sortSel = h('select', { 'aria-label': '报价排序', name: 'quote-sort', onchange: () => { st.sort = sortSel.value; load(); } },
    SORTS.map(([v, t]) => h('option', { value: v }, t)));
  const el = h('div', { class: 'card', id: 'deals' },
    h('div', { class: 'card-head' }, h('h2', null, '报价与成交'), sortSel),
    quotesBox, agreementsBox, formBox);
  const form = proposeForm();

  async function load() {
    const c = getCase();
    const requestId = c?.listing?.id;
    if (!requestId) return;
    try {
      const [quotes, agreements] = await Promise.all([
        api.get(`/api/v1/listings/${encodeURIComponent(requestId)}/quotes`, { sort: st.sort }),
        api.get('/api/v1/agreements', { request: requestId, limit: 50 }),
      ]);
      st.quotes = quotes;
      st.agreements = agreements.items || [];
      render();
    } catch (e) {
      mount(quotesBox, errorBox(e, load));
    }
  }

  /** Firm names by id, from what the case shows. */
  function firmNames() {
    const c = getCase() || {};
    const names = new Map();
    if (c.firm?.id) names.set(c.firm.id, c.firm.name);
    for (const k of c.candidates || []) if (k.listing?.firm?.id) names.set(k.listing.firm.id, k.listing.firm.name);
    for (const q of st.quotes?.items || []) if (q.firm?.id) names.set(q.firm.id, q.firm.name);
    for (const k of c.contacts || []) if (k.firm?.id) names.set(k.firm.id, k.firm.name);
    return names;
  }

  function render() {
    renderQuotes();
    renderAgreements();
    form.refreshMatches();
    mount(formBox, canAct() ? form.el : null);
  }

  // ---------------------------------------------------------------- quotes

  function renderQuotes() {
    const cmp = st.quotes;
    const items = cmp?.items || [];
    const req = cmp?.request || {};
    const head = h('div', { class: 'muted small' },
      req.call_for_quotes ? `公开询价${req.quotes_close_at ? `，${fmtTime(req.quotes_close_at)} 截止` : ''}` : '该需求未公开询价',
      req.quantity ? ` · 需求 ${fmtAmount(req.quantity)}，已锁定 ${fmtAmount(req.committed)}，尚需 ${fmtAmount(req.remaining)}` : '');
    if (!items.length) {
      mount(quotesBox, h('h3', null, '报价（0）'), head, empty(req.call_for_quotes ? '尚无企业报价。' : '没有报价。'));
      return;
    }
    mount(quotesBox,
      h('h3', null, `报价（${items.length}）`), head,
      h('div', { class: 'table-scroll' },
        h('table', { class: 'data-table quote-table' },
          h('thead', null, h('tr', null,
            ['报价企业', '数量 · 单价', '总价', '覆盖', '匹配分', '信誉', '状态'].map((t) => h('th', null, t)))),
          h('tbody', null, items.map(quoteRow)))));
  }

  function quoteRow(q) {
    const r = q.reputation || {};
    return h('tr', { dataset: { quoteId: q.id, matchId: q.match_id, status: q.status } },
      h('td', null, h('strong', null, q.firm?.name || '—'),
        h('div', { class: 'muted small' }, [q.place, q.available_from && `${q.available_from} 至 ${q.available_until || '—'}`].filter(Boolean).join(' · ')),
        q.terms && h('div', { class: 'muted small' }, q.terms),
        q.revision_request && h('div', { class: 'small revision' }, `需求方请其修改：${q.revision_request.message}`)),
      h('td', { class: 'nowrap' }, fmtAmount(q.quantity), h('div', { class: 'muted small' }, fmtAmount(q.price))),
      h('td', { class: 'nowrap quote-total' }, fmtYuan(q.total_price_yuan)),
      h('td', { class: 'nowrap' }, fmtPct(q.coverage)),
      h('td', { class: 'nowrap' }, fmtScore(q.match_score)),
      h('td', { class: 'reputation' },
        r.has_history ? h('span', null, `★ ${Number(r.rating).toFixed(1)}`) : h('span', { class: 'muted' }, '暂无成交'),
        h('div', { class: 'muted small' }, `完成 ${r.completed_deals ?? 0}/${r.confirmed_deals ?? 0} 单`),
        h('div', { class: 'muted small' }, `${r.ratings ?? 0} 条评价`),
        r.median_response_secs != null && h('div', { class: 'muted small' }, `回复用时中位 ${fmtDuration(r.median_response_secs)}`)),
      h('td', { class: 'nowrap' }, badge(label(QUOTE_STATUS, q.status), `q-${q.status}`),
        q.valid_until && h('div', { class: 'muted small' }, `有效至 ${q.valid_until.slice(0, 10)}`),
        canAct() && !q.agreement_id && q.status === 'submitted'
          ? h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'use-quote' }, title: '用这份报价的条款填写下方“代需求方提出成交”',
            onclick: () => form.prefill(q) }, '按此报价代提')
          : q.agreement_id ? h('div', { class: 'muted small' }, '已生成成交') : null));
  }

  // ------------------------------------------------------------ agreements

  function renderAgreements() {
    const list = st.agreements || [];
    const names = firmNames();
    const firm = (id) => names.get(id) || '对方企业';
    mount(agreementsBox, h('h3', null, `成交（${list.length}）`),
      list.length ? list.map((a) => agreementCard(a, firm)) : empty('尚无成交。'));
  }

  function agreementCard(a, firm) {
    const t = a.terms || {};
    const awaiting = a.awaiting_firm_ids || [];
    const versions = (a.versions || []).slice().sort((x, y) => y.version - x.version);
    return h('article', { class: 'agreement', dataset: { agreementId: a.id, status: a.status, version: String(a.version) } },
      h('div', { class: 'agreement-head' },
        badge(label(AGREEMENT_STATUS, a.status), `a-${a.status}`),
        h('strong', null, `${firm(a.request?.firm_id)} ← ${firm(a.offer?.firm_id)}`),
        h('span', { class: 'muted small' }, `第 ${a.version} 版${a.confirmed_version ? `，已确认第 ${a.confirmed_version} 版` : ''}`),
        a.proposed_by_staff && badge('工作人员代提', 'staff')),
      h('dl', { class: 'facts' },
        h('dt', null, '条款'), h('dd', null, termsText(t)),
        h('dt', null, '总价'), h('dd', null, fmtYuan(a.total_price_yuan)),
        awaiting.length ? [h('dt', null, '待确认'), h('dd', { class: 'awaiting' }, awaiting.map(firm).join('、'))] : null,
        a.reveal ? [h('dt', null, '联系方式'), h('dd', null, `${label(REVEAL, a.reveal.reason)}（${fmtTime(a.reveal.revealed_at)}）`)] : null,
        a.cancel_reason ? [h('dt', null, '取消原因'), h('dd', null, a.cancel_reason)] : null),
      h('details', { class: 'history' },
        h('summary', null, `版本记录（${versions.length}）`),
        h('div', { class: 'table-scroll' }, h('table', { class: 'data-table' },
          h('thead', null, h('tr', null, ['版本', '条款', '提出方', '提出时间', '确认时间'].map((x) => h('th', null, x)))),
          h('tbody', null, versions.map((v) => h('tr', { dataset: { version: String(v.version) } },
            h('td', null, `第 ${v.version} 版`),
            h('td', null, termsText(v.terms || {})),
            h('td', null, v.proposed_by === a.proposed_by_staff ? `工作人员代${firm(v.proposed_by_firm)}` : firm(v.proposed_by_firm)),
            h('td', { class: 'nowrap' }, fmtTime(v.proposed_at)),
            h('td', { class: 'nowrap' }, v.confirmed_at ? fmtTime(v.confirmed_at) : '未确认'))))))),
      timeline(a));
  }

  function timeline(a) {
    const steps = [
      ['提出', a.created_at], ['首次确认', a.first_confirmed_at], ['开始履约', a.started_at],
      ['完成', a.completed_at], ['取消', a.cancelled_at],
    ].filter(([, at]) => at);
    return h('p', { class: 'muted small' }, steps.map(([t, at]) => `${t} ${fmtTime(at)}`).join(' → '));
  }

  function termsText(t) {
    const parts = [fmtAmount(t.quantity), t.price ? `${fmtAmount(t.price)}` : null];
    if (t.available_from || t.available_until) parts.push(`${t.available_from || '—'} 至 ${t.available_until || '—'}`);
    if (t.place) parts.push(t.place);
    return parts.filter(Boolean).join(' · ');
  }

  // ------------------------------------------------------------ proposing

  function proposeForm() {
    const match = h('select', { name: 'match_id', id: 'pa-match' });
    const qAmount = h('input', { name: 'quantity.amount', id: 'pa-quantity', type: 'number', step: 'any', min: '0', inputmode: 'decimal' });
    const qUnit = h('input', { name: 'quantity.unit', id: 'pa-quantity-unit', placeholder: '吨', size: 6 });
    const pAmount = h('input', { name: 'price.amount', id: 'pa-price', type: 'number', step: 'any', min: '0', inputmode: 'decimal' });
    const pUnit = h('input', { name: 'price.unit', id: 'pa-price-unit', placeholder: '元/吨', size: 8 });
    const from = h('input', { name: 'available_from', id: 'pa-from', type: 'date' });
    const until = h('input', { name: 'available_until', id: 'pa-until', type: 'date' });
    const place = h('input', { name: 'place', id: 'pa-place', maxlength: 200, placeholder: '交货或服务地点' });
    const errorsFor = {};
    const fieldError = (key) => {
      errorsFor[key] = h('p', { class: 'field-error', dataset: { errorFor: key }, hidden: true });
      return errorsFor[key];
    };
    const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'pa-submit' }, '代需求方提出成交');
    const el = h('form', { class: 'propose', id: 'propose-form', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      busy(submit, send);
    } },
    h('h3', null, '代需求方提出成交'),
    h('p', { class: 'muted small' }, '以需求企业的名义提出条款。双方企业都确认后成交生效；提出即向双方引荐，公开彼此联系方式，并记入操作记录。'),
    h('label', null, '匹配记录', match), fieldError('match_id'),
    h('div', { class: 'form-row' },
      h('label', null, '数量', qAmount), h('label', null, '单位', qUnit)), fieldError('quantity'),
    h('div', { class: 'form-row' },
      h('label', null, '单价', pAmount), h('label', null, '价格单位', pUnit)), fieldError('price'),
    h('div', { class: 'form-row' },
      h('label', null, '开始日期', from), h('label', null, '结束日期', until)), fieldError('available'),
    h('label', null, '地点', place), fieldError('place'),
    formError,
    h('div', { class: 'form-actions' }, submit));

    function clearErrors() {
      for (const e of Object.values(errorsFor)) {
        e.hidden = true;
        e.textContent = '';
      }
      for (const i of el.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
      formError.hidden = true;
    }

    /** A field error goes next to its field: `quantity.unit` under 数量, `available_until` under the dates. */
    function showErrors(err) {
      const unplaced = [];
      for (const fe of err.errors) {
        const field = fe.field || '';
        const key = field.startsWith('available_') ? 'available' : field.split('.')[0];
        const box = errorsFor[key];
        if (!box) {
          unplaced.push(fe.message || field);
          continue;
        }
        box.textContent = box.textContent ? `${box.textContent}；${fe.message}` : fe.message;
        box.hidden = false;
        const input = el.querySelector(`[name="${field}"]`) || el.querySelector(`[name^="${key}"]`);
        input?.setAttribute('aria-invalid', 'true');
      }
      formError.textContent = unplaced.length ? `${err.detail}：${unplaced.join('；')}` : err.detail;
      formError.hidden = false;
    }

    async function send() {
      clearErrors();
      const body = { match_id: match.value };
      const amount = (input) => (input.value.trim() === '' ? null : Number(input.value));
      if (amount(qAmount) !== null || qUnit.value.trim()) body.quantity = { amount: amount(qAmount) ?? 0, unit: qUnit.value.trim() };
      if (amount(pAmount) !== null || pUnit.value.trim()) body.price = { amount: amount(pAmount) ?? 0, unit: pUnit.value.trim() };
      if (from.value) body.available_from = from.value;
      if (until.value) body.available_until = until.value;
      if (place.value.trim()) body.place = place.value.trim();
      try {
        const a = await api.post(`/api/v1/staff/cases/${encodeURIComponent(caseId)}/agreements`, body);
        toast(`已代需求方提出成交（第 ${a.version} 版），等待双方确认`, 'ok');
        for (const i of [qAmount, qUnit, pAmount, pUnit, from, until, place]) i.value = '';
        await load();
      } catch (e) {
        if (e instanceof ApiError && e.status === 422 && e.errors.length) {
          showErrors(e);
          return;
        }
        if (e instanceof ApiError) {
          formError.textContent = e.describe();
          formError.hidden = false;
          return;
        }
        throw e;
      }
    }

    /** The request's match records that have no running agreement. */
    function refreshMatches() {
      const c = getCase() || {};
      const taken = new Set((st.agreements || []).filter((a) => a.status !== 'cancelled').map((a) => a.match_id));
      const options = new Map();
      for (const q of st.quotes?.items || []) {
        if (q.status !== 'withdrawn' && q.status !== 'declined') options.set(q.match_id, `${q.firm?.name || ''}（报价 ${fmtAmount(q.price)}）`);
      }
      for (const k of c.candidates || []) {
        if (!options.has(k.match_id) && k.status !== 'declined' && k.status !== 'expired') {
          options.set(k.match_id, `${k.listing?.firm?.name || ''} · ${k.listing?.title || ''}（${label(MATCH_STATUS, k.status)}，${fmtScore(k.score)} 分）`);
        }
      }
      for (const k of c.contacts || []) {
        if (k.match_id && !options.has(k.match_id)) options.set(k.match_id, `${k.firm?.name || ''} · ${k.offer?.title || ''}（已对接）`);
      }
      const keep = match.value;
      const free = [...options].filter(([id]) => !taken.has(id));
      mount(match, free.length
        ? free.map(([id, text]) => h('option', { value: id }, text))
        : h('option', { value: '' }, '没有可提出成交的匹配记录'));
      if (free.some(([id]) => id === keep)) match.value = keep;
      submit.disabled = !free.length;
    }

    /** Fills the form with a quote's terms. */
    function prefill(q) {
      refreshMatches();
      if ([...match.options].some((o) => o.value === q.match_id)) match.value = q.match_id;
      qAmount.value = q.quantity?.amount ?? '';
      qUnit.value = q.quantity?.unit ?? '';
      pAmount.value = q.price?.amount ?? '';
      pUnit.value = q.price?.unit ?? '';
      from.value = q.available_from || '';
      until.value = q.available_until || '';
      place.value = q.place || '';
      clearErrors();
      el.scrollIntoView({ block: 'center' });
      qAmount.focus();
    }

    return { el, refreshMatches, prefill };
  }

  load();
  return {
    el,
    reload: load,
  };
}
