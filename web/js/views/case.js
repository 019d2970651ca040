// One case: the request and its firm, SLA clocks, the candidates with their
// score breakdown side by side, brokering, the threads it opened, resolving
// and escalating, and the case's audit trail.

import { api, ApiError } from '../api.js';
import {
  h, mount, errorBox, empty, busy, dialog, toast, debounce, label, fmtTime, fmtAmount, fmtScore, fmtAgo,
  urgencyBadge, statusBadge, badge, highlighted, attrValue, KIND, SIDE, FACTOR, MATCH_STATUS, OUTCOME, AUDIT_ACTION, ATTRIBUTE,
} from '../ui.js';
import { rateBar } from '../charts.js';
import { slaTable, tick } from './sla.js';
import { chatPanel } from './chat.js';
import { dealsPanel } from './deals.js';

const MAX_OFFERS = 5;
const CANDIDATE_POLL_MS = 3000;
const CANDIDATE_POLLS = 20;

export function caseView(ctx, caseId) {
  const st = { c: null, selected: new Set(), extra: new Map(), thread: null, chat: null, polls: 0, openFactors: new Set() };
  const el = h('section', { class: 'page page-case', id: 'case', dataset: { caseId } }, h('p', { class: 'muted' }, '正在加载工单…'));
  let pollTimer = null;

  async function load() {
    try {
      st.c = await api.get(`/api/v1/staff/cases/${encodeURIComponent(caseId)}`);
      render();
      schedulePoll();
    } catch (e) {
      mount(el, h('a', { href: '#/queue', class: 'back' }, '← 工单队列'), errorBox(e, load));
    }
  }

  /** Candidates are stored right after the request is indexed: look again until they are. */
  function schedulePoll() {
    clearTimeout(pollTimer);
    const c = st.c;
    if (!c || c.status === 'resolved' || (c.candidates || []).length || st.polls >= CANDIDATE_POLLS) return;
    st.polls += 1;
    pollTimer = setTimeout(load, CANDIDATE_POLL_MS);
  }

  // A district administrator reads cases; the community's staff act on them.
  const districtOnly = !ctx.me.roles.includes('community_staff') && !ctx.me.roles.includes('platform_admin');
  const canAct = () => {
    const c = st.c;
    if (!c || c.status === 'resolved') return false;
    if (ctx.me.roles.includes('platform_admin')) return true;
    return ctx.me.staff?.community_id === c.community?.id;
  };

  function render() {
    const c = st.c;
    const l = c.listing || {};
    el.dataset.status = c.status;
    const prevThread = st.thread;
    // One deals panel for the view: it keeps its form across re-renders.
    if (!st.deals) st.deals = dealsPanel(caseId, { getCase: () => st.c, canAct });
    else st.deals.reload();
    mount(el,
      h('a', { href: '#/queue', class: 'back' }, '← 工单队列'),
      h('div', { class: 'page-head case-head' },
        h('div', null,
          h('div', { class: 'case-badges' }, urgencyBadge(c.urgency), statusBadge(c.status),
            c.sla?.overdue && badge('已超时', 'over'),
            c.escalated_from && badge(`由${c.escalated_from.name}升级转来`, 'muted')),
          h('h1', { class: 'case-h1' }, l.title || '（无标题）'),
          h('div', { class: 'muted' }, `${c.community?.name || ''} · ${fmtTime(c.opened_at)} 提交（${fmtAgo(c.opened_at)}）`,
            c.claimed_by && ` · 认领：${c.claimed_by.name}`)),
        actionBar()),
      h('div', { class: 'case-grid' },
        h('div', { class: 'case-col' },
          requestCard(c),
          h('div', { class: 'card' }, h('h2', null, '时限（SLA）'), slaTable(c)),
          c.status === 'resolved' && h('div', { class: 'card', id: 'outcome' },
            h('h2', null, '结案'),
            h('p', null, badge(label(OUTCOME, c.outcome), `o-${c.outcome}`), ` ${fmtTime(c.resolved_at)}`),
            c.outcome_note && h('p', null, c.outcome_note)),
          auditCard()),
        h('div', { class: 'case-col case-col-wide' },
          candidatesCard(c),
          st.deals.el,
          contactsCard(c))));
    if (prevThread && (c.contacts || []).some((k) => k.thread_id === prevThread)) openThread(prevThread);
    else if ((c.contacts || []).length) openThread(c.contacts[c.contacts.length - 1].thread_id);
  }

  function actionBar() {
    const c = st.c;
    if (!canAct()) {
      return h('div', { class: 'actions muted' }, c.status === 'resolved' ? '工单已结案'
        : districtOnly ? '只读：区域管理员可查看，由社区工作人员处理' : '只读：工单已转至其他社区');
    }
    const mineClaim = c.claimed_by && c.claimed_by.id === ctx.me.user.id;
    return h('div', { class: 'actions' },
      !mineClaim && h('button', { class: 'btn btn-primary', type: 'button', dataset: { action: 'claim' }, onclick: (e) => busy(e.currentTarget, claim) },
        c.claimed_by ? '接手' : '认领'),
      h('button', { class: 'btn', type: 'button', dataset: { action: 'resolve' }, onclick: resolveDialog }, '结案'),
      h('button', { class: 'btn', type: 'button', dataset: { action: 'escalate' }, onclick: escalateDialog }, '升级转派'));
  }

  async function claim(takeOver = false) {
    try {
      st.c = await api.post(`/api/v1/staff/cases/${caseId}/claim`, takeOver ? { take_over: true } : {});
      toast(takeOver ? '已接手工单' : '已认领工单');
      render();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'already_claimed' && !takeOver) {
        st.c = await api.get(`/api/v1/staff/cases/${encodeURIComponent(caseId)}`).catch(() => st.c);
        render();
        const who = st.c.claimed_by?.name || '其他工作人员';
        dialog('工单已被认领', h('p', null, `该工单已由${who}认领。是否接手？接手后由您负责后续处理。`), (close) =>
          h('button', { class: 'btn btn-primary', type: 'button', dataset: { action: 'take-over' },
            onclick: async (ev) => { await busy(ev.currentTarget, () => claim(true)); close(); } }, '接手'));
        return;
      }
      throw e;
    }
  }

  function requestCard(c) {
    const l = c.listing || {};
    const f = c.firm || {};
    const attrs = Object.entries(l.attributes || {});
    return h('div', { class: 'card' },
      h('h2', null, '求助内容'),
      h('dl', { class: 'facts' },
        h('dt', null, '类别'), h('dd', null, `${label(SIDE, l.side)} · ${label(KIND, l.kind)}`),
        h('dt', null, '数量'), h('dd', null, fmtAmount(l.quantity)),
        h('dt', null, '预算'), h('dd', null, fmtAmount(l.price)),
        h('dt', null, '时间'), h('dd', null, `${l.available_from || '—'} 至 ${l.available_until || '—'}`),
        h('dt', null, '地点'), h('dd', null, l.location?.address || '—'),
        attrs.map(([k, v]) => [h('dt', null, label(ATTRIBUTE, k)), h('dd', null, attrValue(v))])),
      l.description && h('p', { class: 'desc' }, l.description),
      h('h3', null, '求助企业'),
      h('dl', { class: 'facts' },
        h('dt', null, '企业'), h('dd', null, f.name || '—', f.verified === false && badge('未认证', 'muted')),
        h('dt', null, '联系人'), h('dd', null, f.contact_name || '—'),
        h('dt', null, '电话'), h('dd', null, f.contact_phone ? h('a', { href: `tel:${f.contact_phone}` }, f.contact_phone) : '—')));
  }

  // ------------------------------------------------------------ candidates

  function candidatesCard(c) {
    const cands = c.candidates || [];
    const acting = canAct();
    const box = h('div', { class: 'card', id: 'candidates' },
      h('div', { class: 'card-head' },
        h('h2', null, `候选供给（${cands.length}）`),
        acting && h('button', { class: 'btn btn-small', type: 'button', onclick: pickOtherDialog }, '添加其他供给')));
    if (!cands.length && !st.extra.size) {
      const waiting = acting && st.polls < CANDIDATE_POLLS;
      box.append(empty(waiting ? '正在匹配候选供给…（也可以“添加其他供给”）'
        : acting ? '暂无候选供给，可以“添加其他供给”。' : '暂无候选供给。'));
    }
    const list = h('div', { class: 'cand-list' });
    for (const k of cands) list.append(candidate(k, acting));
    for (const [id, l] of st.extra) list.append(extraCandidate(id, l, acting));
    box.append(list);
    const compare = h('div', { class: 'compare', id: 'compare' });
    box.append(compare);
    if (acting) box.append(brokerForm());
    renderCompare(compare);
    return box;
  }

  function toggle(id, on) {
    if (on) st.selected.add(id);
    else st.selected.delete(id);
    const count = el.querySelector('#broker-count');
    if (count) count.textContent = `已选 ${st.selected.size} 个（最多 ${MAX_OFFERS} 个）`;
    const btn = el.querySelector('[data-action="broker"]');
    if (btn) btn.disabled = st.selected.size === 0 || st.selected.size > MAX_OFFERS;
    renderCompare(el.querySelector('#compare'));
  }

  function candidate(k, acting) {
    const l = k.listing || {};
    const contacted = (st.c.contacts || []).some((x) => x.offer?.id === l.id);
    const check = acting && h('input', {
      type: 'checkbox', name: 'offer', value: l.id, checked: st.selected.has(l.id),
      'aria-label': `选择 ${l.title}`, onchange: (e) => toggle(l.id, e.currentTarget.checked),
    });
    const factors = (k.factors || []).slice().sort((a, b) => b.weight - a.weight);
    return h('article', { class: `cand${contacted ? ' is-contacted' : ''}`, dataset: { offerId: l.id, matchId: k.match_id } },
      h('div', { class: 'cand-head' },
        check ? h('label', { class: 'cand-pick' }, check) : null,
        h('div', { class: 'score', title: '综合得分' }, fmtScore(k.score)),
        h('div', { class: 'cand-title' },
          h('strong', null, l.title),
          h('div', { class: 'muted small' },
            [l.firm?.name, label(KIND, l.kind), fmtAmount(l.quantity), l.price ? fmtAmount(l.price) : null, l.community?.name].filter(Boolean).join(' · ')),
          h('div', { class: 'cand-badges' },
            badge(label(MATCH_STATUS, k.status), `m-${k.status}`),
            k.partial && badge('仅部分满足', 'muted'),
            l.firm?.verified && badge('已认证', 'ok'),
            contacted && badge('已对接', 'ok')))),
      h('details', {
        class: 'factors', open: st.openFactors.has(l.id),
        ontoggle: (e) => (e.currentTarget.open ? st.openFactors.add(l.id) : st.openFactors.delete(l.id)),
      },
        h('summary', null, '得分构成'),
        factorTable(factors)));
  }

  function extraCandidate(id, l, acting) {
    return h('article', { class: 'cand cand-extra', dataset: { offerId: id } },
      h('div', { class: 'cand-head' },
        acting && h('label', { class: 'cand-pick' }, h('input', {
          type: 'checkbox', name: 'offer', value: id, checked: st.selected.has(id),
          onchange: (e) => toggle(id, e.currentTarget.checked),
        })),
        h('div', { class: 'score score-none' }, '—'),
        h('div', { class: 'cand-title' },
          h('strong', null, l.title),
          h('div', { class: 'muted small' }, [l.firm?.name, label(KIND, l.kind), fmtAmount(l.quantity)].filter(Boolean).join(' · ')),
          h('div', { class: 'muted small' }, '手动添加：撮合时计算得分'))));
  }

  function factorTable(factors) {
    return h('table', { class: 'factor-table' },
      h('tbody', null, factors.map((f) =>
        h('tr', { dataset: { factor: f.key } },
          h('th', null, label(FACTOR, f.key), h('span', { class: 'muted small' }, ` ×${f.weight}`)),
          h('td', { class: 'factor-bar' }, rateBar(f.value, { target: undefined }), h('span', { class: 'small' }, fmtScore(f.value))),
          h('td', { class: 'factor-reason' }, f.reason)))));
  }

  /** Side by side: one column per selected suggestion, one row per factor. */
  function renderCompare(box) {
    if (!box) return;
    const picked = (st.c.candidates || []).filter((k) => st.selected.has(k.listing?.id));
    if (picked.length < 2) {
      mount(box, picked.length === 1 ? h('p', { class: 'muted small' }, '再选一个候选即可并排对比得分构成。') : null);
      return;
    }
    const keys = [];
    for (const k of picked) for (const f of k.factors || []) if (!keys.includes(f.key)) keys.push(f.key);
    mount(box,
      h('h3', null, '候选对比'),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'compare-table' },
          h('thead', null, h('tr', null, h('th', null, '因素'), picked.map((k) => h('th', null, k.listing.title)))),
          h('tbody', null,
            h('tr', { class: 'total' }, h('th', null, '综合得分'), picked.map((k) => h('td', null, h('strong', null, fmtScore(k.score))))),
            keys.map((key) => h('tr', null,
              h('th', null, label(FACTOR, key)),
              picked.map((k) => {
                const f = (k.factors || []).find((x) => x.key === key);
                return h('td', null, f ? [rateBar(f.value), h('div', { class: 'small' }, f.reason)] : h('span', { class: 'muted' }, '—'));
              })))))));
  }

  function brokerForm() {
    const message = h('textarea', { name: 'broker-message', rows: 3, maxlength: 4000, value: st.brokerMessage || '',
      placeholder: '给双方的话（可选），例如：请尽快联系，停产在即。', oninput: (e) => { st.brokerMessage = e.currentTarget.value; } });
    const btn = h('button', { class: 'btn btn-primary', type: 'submit', dataset: { action: 'broker' }, disabled: st.selected.size === 0 }, '撮合对接');
    return h('form', { class: 'broker', id: 'broker-form', onsubmit: (e) => {
      e.preventDefault();
      busy(btn, async () => {
        const offers = [...st.selected];
        if (!offers.length || offers.length > MAX_OFFERS) throw new Error(`请选择 1 至 ${MAX_OFFERS} 个供给`);
        const body = { offer_ids: offers };
        if (message.value.trim()) body.message = message.value.trim();
        st.c = await api.post(`/api/v1/staff/cases/${caseId}/broker`, body);
        st.selected.clear();
        st.extra.clear();
        st.brokerMessage = '';
        st.thread = null;
        st.chat = null;
        toast(`已撮合 ${offers.length} 个供给，双方已收到通知`, 'ok');
        render();
      });
    } },
    h('h3', null, '撮合对接'),
    h('p', { class: 'muted small', id: 'broker-count' }, `已选 ${st.selected.size} 个（最多 ${MAX_OFFERS} 个）`),
    message,
    h('div', { class: 'form-actions' }, btn));
  }

  function pickOtherDialog() {
    const l = st.c.listing || {};
    const q = h('input', { type: 'search', value: l.title || '', placeholder: '关键词' });
    const results = h('ul', { class: 'pick-list' });
    const search = async () => {
      try {
        const page = await api.get('/api/v1/listings/search', { q: q.value, side: 'offer', kind: l.kind, limit: 20 });
        mount(results, page.items.length ? page.items.map((it) => h('li', null,
          h('div', null, h('div', null, highlighted(it.highlights?.title || it.listing.title)),
            h('div', { class: 'muted small' }, `${it.listing.firm?.name || ''} · ${it.listing.community?.name || ''}`)),
          h('button', { class: 'btn btn-small', type: 'button', onclick: () => {
            st.extra.set(it.listing.id, it.listing);
            st.selected.add(it.listing.id);
            render();
            toast(`已加入：${it.listing.title}`);
          } }, '加入'))) : empty('没有找到供给。'));
      } catch (e) {
        mount(results, errorBox(e));
      }
    };
    q.addEventListener('input', debounce(search, 300));
    dialog('添加其他供给', h('div', null, q, results), (close) => h('button', { class: 'btn btn-primary', type: 'button', onclick: close }, '完成'));
    search();
  }

  // -------------------------------------------------------------- contacts

  function contactsCard(c) {
    const contacts = c.contacts || [];
    const box = h('div', { class: 'card', id: 'contacts' }, h('h2', null, `对接记录（${contacts.length}）`));
    if (!contacts.length) {
      box.append(empty('尚未撮合。选择候选供给后点“撮合对接”，系统会为双方建立会话并通知供给方。'));
      return box;
    }
    box.append(h('ul', { class: 'contact-list' }, contacts.map((k) =>
      h('li', { dataset: { threadId: k.thread_id } },
        h('button', { type: 'button', class: `contact${st.thread === k.thread_id ? ' active' : ''}`, onclick: () => openThread(k.thread_id) },
          h('strong', null, k.firm?.name || '—'), ` · ${k.offer?.title || ''}`,
          h('div', { class: 'muted small' }, `${k.brokered_by?.name || ''} ${fmtTime(k.at)}`))))));
    box.append(h('div', { id: 'case-chat' }));
    return box;
  }

  function openThread(threadId) {
    const holder = el.querySelector('#case-chat');
    // The firms' conversation is for the staff who broker it.
    if (!holder || districtOnly) return;
    for (const b of el.querySelectorAll('.contact')) b.classList.toggle('active', b.parentElement.dataset.threadId === threadId);
    if (st.thread !== threadId || !st.chat) {
      st.thread = threadId;
      st.chat = chatPanel(ctx, threadId, { compact: true });
    }
    mount(holder, st.chat.el);
  }

  // ---------------------------------------------------------- resolve etc.

  function resolveDialog() {
    const radios = Object.entries(OUTCOME).map(([v, t], i) =>
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'outcome', value: v, checked: i === 0 }), t));
    const note = h('textarea', { name: 'note', rows: 3, maxlength: 2000, placeholder: '结案说明：问题如何解决、对接结果等' });
    const body = h('div', null, h('fieldset', { class: 'radios' }, h('legend', null, '结果'), radios), h('label', null, '说明', note));
    dialog('结案', body, (close) => h('button', { class: 'btn btn-primary', type: 'button', dataset: { action: 'confirm-resolve' }, onclick: (e) => busy(e.currentTarget, async () => {
      const outcome = body.querySelector('input[name="outcome"]:checked').value;
      const payload = { outcome };
      if (note.value.trim()) payload.note = note.value.trim();
      st.c = await api.post(`/api/v1/staff/cases/${caseId}/resolve`, payload);
      close();
      toast('工单已结案', 'ok');
      render();
    }) }, '确认结案'));
  }

  async function escalateDialog() {
    let communities = [];
    try {
      communities = (await api.get('/api/v1/communities')).items.filter((x) => x.id !== st.c.community?.id);
    } catch (e) {
      toast(e.message, 'error');
      return;
    }
    const select = h('select', { name: 'community' }, communities.map((x) => h('option', { value: x.id }, `${x.name}${x.district ? `（${x.district}）` : ''}`)));
    const note = h('textarea', { name: 'note', rows: 3, maxlength: 2000, placeholder: '转派原因' });
    dialog('升级转派到其他社区', h('div', null, h('label', null, '接收社区', select), h('label', null, '说明', note)), (close) =>
      h('button', { class: 'btn btn-primary', type: 'button', dataset: { action: 'confirm-escalate' }, disabled: !communities.length, onclick: (e) => busy(e.currentTarget, async () => {
        const payload = { community_id: select.value };
        if (note.value.trim()) payload.note = note.value.trim();
        st.c = await api.post(`/api/v1/staff/cases/${caseId}/escalate`, payload);
        close();
        toast('工单已转派', 'ok');
        render();
      }) }, '确认转派'));
  }

  // ----------------------------------------------------------------- audit

  function auditCard() {
    const box = h('div', { class: 'card' }, h('h2', null, '操作记录'));
    const list = h('ol', { class: 'audit-mini' });
    box.append(list);
    // A district administrator reads the log of the community holding the case.
    api.get('/api/v1/staff/audit', { case_id: caseId, limit: 20, community_id: districtOnly ? st.c.community?.id : undefined }).then((page) => {
      mount(list, page.items.length ? page.items.map((a) => h('li', null,
        h('time', null, fmtTime(a.at)), ' ', h('strong', null, a.actor?.name || '系统'), ` ${label(AUDIT_ACTION, a.action)}`)) : empty('暂无记录。'));
    }).catch((e) => mount(list, errorBox(e)));
    return box;
  }

  const reload = debounce(load, 250);
  const reloadDeals = debounce(() => st.deals?.reload(), 250);
  const ticker = setInterval(() => tick(el), 1000);
  load();

  return {
    el,
    onEvent(type, data) {
      if ((type === 'case.updated' || type === 'case.opened') && data?.id === caseId) reload();
      if ((type === 'match.created' || type === 'match.status_changed') && st.c && data?.request_id === st.c.listing?.id) reload();
      if (/^(quote|agreement|rating)\./.test(type)) reloadDeals();
      st.chat?.onEvent(type, data);
    },
    onLiveState(s) {
      if (s === 'open') reload();
      st.chat?.onLiveState?.(s);
    },
    destroy() {
      clearInterval(ticker);
      clearTimeout(pollTimer);
    },
  };
}
