// The front desk (有事找社区): staff post a listing for a firm of their
// community (the firm's admins are told and may take it over later), and
// open a staff case from any listing of the community.

import { api, errorText } from '../api.js';
import { h, mount, errorBox, busy, toast, fmtTime, label, KIND, SIDE, URGENCY } from '../ui.js';

export function frontdeskView() {
  const firm = h('select', { name: 'firm_id', id: 'fd-firm', required: true, 'aria-label': '代哪家企业发布' },
    h('option', { value: '' }, '正在加载本社区企业…'));
  const side = h('select', { name: 'side', id: 'fd-side' },
    Object.entries(SIDE).map(([v, t]) => h('option', { value: v }, t)));
  const kind = h('select', { name: 'kind', id: 'fd-kind' },
    Object.entries(KIND).map(([v, t]) => h('option', { value: v }, t)));
  const urgency = h('select', { name: 'urgency', id: 'fd-urgency' },
    Object.entries(URGENCY).map(([v, t]) => h('option', { value: v }, t)));
  const title = h('input', { name: 'title', id: 'fd-title', required: true, maxlength: 100, placeholder: '例如：急租 37kW 空压机一周' });
  const description = h('textarea', { name: 'description', id: 'fd-description', rows: 4, maxlength: 2000,
    placeholder: '企业在电话里说的需求：数量、时间、地点、联系人…' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const posted = h('div', { id: 'fd-posted' });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit', id: 'fd-submit' }, '代企业发布');
  const form = h('form', { class: 'card', id: 'post-for-firm', onsubmit: (e) => {
    e.preventDefault();
    error.hidden = true;
    busy(submit, async () => {
      try {
        const l = await api.post('/api/v1/listings', {
          firm_id: firm.value,
          side: side.value,
          kind: kind.value,
          urgency: urgency.value,
          title: title.value.trim(),
          description: description.value.trim(),
        });
        toast(`已代 ${l.firm.name} 发布：${l.title}`, 'ok');
        title.value = '';
        description.value = '';
        showPosted(l);
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
      }
    });
  } },
  h('h2', null, '代企业发布供需'),
  h('p', { class: 'muted' }, '信息归该企业所有（匹配、可见范围与企业自己发布的相同），并记录由您代发；企业管理员会收到通知，可随时接管或关闭。'),
  h('label', null, '企业', firm),
  h('div', { class: 'toolbar' }, h('label', null, '类型', side), h('label', null, '类别', kind), h('label', null, '紧急程度', urgency)),
  h('label', null, '标题', title),
  h('label', null, '描述', description),
  error,
  h('div', { class: 'form-actions' }, submit));

  function showPosted(l) {
    const open = h('button', { class: 'btn', type: 'button', dataset: { action: 'open-case' }, onclick: (e) => busy(e.currentTarget, async () => {
      const k = await api.post('/api/v1/staff/cases', { listing_id: l.id, note: '前台代发并转为工单' });
      toast(k.opened_now ? '已转为工单' : '该信息已有进行中的工单', 'ok');
      location.hash = `#/case/${k.id}`;
    }) }, '转为工单');
    posted.prepend(h('article', { class: 'card', dataset: { listingId: l.id } },
      h('div', { class: 'card-head' }, h('h2', null, l.title), open),
      h('dl', { class: 'facts' },
        h('dt', null, '企业'), h('dd', null, l.firm.name),
        h('dt', null, '类型'), h('dd', null, `${label(SIDE, l.side)} · ${label(KIND, l.kind)} · ${label(URGENCY, l.urgency)}`),
        h('dt', null, '代发'), h('dd', { class: 'posted-by-staff' }, l.posted_by_staff ? '由本社区工作人员代发（企业尚未接管）' : '企业已接管'),
        h('dt', null, '发布时间'), h('dd', null, fmtTime(l.created_at)))));
  }

  const listingId = h('input', { name: 'listing_id', id: 'fd-case-listing', placeholder: '供需信息编号', required: true });
  const note = h('input', { name: 'note', id: 'fd-case-note', placeholder: '内部备注（仅工作人员可见）' });
  const caseForm = h('form', { class: 'card toolbar', id: 'open-case', onsubmit: (e) => {
    e.preventDefault();
    busy(e.submitter || caseForm.querySelector('button'), async () => {
      const k = await api.post('/api/v1/staff/cases', { listing_id: listingId.value.trim(), note: note.value.trim() || undefined });
      toast(k.opened_now ? '已转为工单' : '该信息已有进行中的工单', 'ok');
      location.hash = `#/case/${k.id}`;
    });
  } },
  h('h2', null, '把任意信息转为工单'),
  listingId, note, h('button', { class: 'btn btn-primary', type: 'submit' }, '转为工单'));

  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '前台代办')),
    form, posted, caseForm);

  async function loadFirms() {
    try {
      const page = await api.get('/api/v1/firms', { verified: true, limit: 100 });
      mount(firm, h('option', { value: '' }, '选择企业…'),
        page.items.map((f) => h('option', { value: f.id }, f.name)));
    } catch (e) {
      mount(posted, errorBox(e, loadFirms));
    }
  }
  loadFirms();
  return { el };
}
