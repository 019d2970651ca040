// 工作人员: a community's staff accounts for platform admins and district
// administrators — their state and last activity, inviting a colleague
// (a one-time code to set the password), disabling and enabling.

import { api } from '../api.js';
import { h, mount, errorBox, empty, busy, toast, fmtTime, dialog } from '../ui.js';

/** The communities the caller manages: every one (platform admins) or their districts'. */
export async function managedCommunities(me) {
  if (me.roles.includes('platform_admin')) return (await api.get('/api/v1/communities')).items;
  const seen = new Map();
  for (const d of (await api.get('/api/v1/districts')).items) for (const c of d.communities) seen.set(c.id, c);
  return [...seen.values()];
}

export function staffAdminView(ctx, communityId) {
  const pick = h('select', { name: 'community', 'aria-label': '社区', onchange: () => { location.hash = `#/staff/${encodeURIComponent(pick.value)}`; } });
  const list = h('div', { id: 'staff-list' }, h('p', { class: 'muted' }, '正在加载…'));
  const login = h('input', { name: 'login', required: true, placeholder: '手机号或邮箱', autocomplete: 'off' });
  const name = h('input', { name: 'display_name', required: true, placeholder: '姓名', maxlength: 64 });
  const invited = h('div', { id: 'invite-result' });
  const invite = h('form', { class: 'toolbar', id: 'invite-form', onsubmit: (e) => {
    e.preventDefault();
    busy(e.submitter || invite.querySelector('button'), async () => {
      const out = await api.post(`/api/v1/communities/${encodeURIComponent(pick.value)}/staff`, { login: login.value.trim(), display_name: name.value.trim() });
      mount(invited, h('div', { class: 'alert alert-info', role: 'status' },
        `已邀请 ${out.display_name}。请把一次性设置码告知本人（仅显示这一次，${fmtTime(out.invite?.expires_at)} 前有效），用它在登录页设置密码：`,
        h('strong', { class: 'code', id: 'invite-code' }, out.invite?.code || '')));
      login.value = '';
      name.value = '';
      load();
    });
  } },
  h('label', null, '账号', login), h('label', null, '姓名', name),
  h('button', { class: 'btn btn-primary', type: 'submit' }, '邀请工作人员'));
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '工作人员'), pick),
    h('div', { class: 'card' }, h('h2', null, '邀请新同事'), invite, invited),
    h('div', { class: 'card' }, h('h2', null, '账号列表'), list));

  function setDisabled(s, disable) {
    const go = async (reason) => {
      const path = `/api/v1/communities/${encodeURIComponent(pick.value)}/staff/${encodeURIComponent(s.user_id)}/${disable ? 'disable' : 'enable'}`;
      await api.post(path, disable ? { reason } : {});
      toast(disable ? `已停用 ${s.display_name}，其登录已全部失效` : `已启用 ${s.display_name}`);
      load();
    };
    if (!disable) return go();
    const reason = h('input', { name: 'reason', maxlength: 500, placeholder: '例如：离职、调岗' });
    dialog(`停用 ${s.display_name}？`, h('div', null,
      h('p', null, '停用后该账号立即退出所有登录、实时连接中断，且无法再登录，直到重新启用。'),
      h('label', null, '原因（可选）', reason)),
    (close) => h('button', { type: 'button', class: 'btn btn-danger', dataset: { action: 'confirm-disable' }, onclick: (e) => busy(e.currentTarget, async () => { await go(reason.value.trim()); close(); }) }, '停用'));
    return undefined;
  }

  function row(s) {
    const disabled = s.status === 'disabled';
    return h('tr', { dataset: { userId: s.user_id, status: s.status } },
      h('th', null, s.display_name),
      h('td', null, s.phone || s.email || ''),
      h('td', null, h('span', { class: `badge${disabled ? '' : ' badge-ok'}` }, disabled ? '已停用' : '在用'),
        disabled && h('div', { class: 'muted small' }, fmtTime(s.disabled_at))),
      h('td', { class: 'nowrap' }, s.last_sign_in_at ? fmtTime(s.last_sign_in_at) : '从未登录'),
      h('td', { class: 'nowrap' }, s.last_action_at ? fmtTime(s.last_action_at) : '—'),
      h('td', null, s.user_id === ctx.me.user.id ? null : h('button', {
        type: 'button', class: `btn btn-small${disabled ? '' : ' btn-danger'}`, dataset: { action: disabled ? 'enable' : 'disable' },
        onclick: (e) => busy(e.currentTarget, () => setDisabled(s, !disabled)),
      }, disabled ? '启用' : '停用')));
  }

  async function load() {
    try {
      const out = await api.get(`/api/v1/communities/${encodeURIComponent(pick.value)}/staff`);
      mount(list, out.items.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'data-table', id: 'staff-table' },
        h('thead', null, h('tr', null, ['姓名', '账号', '状态', '最近登录', '最近操作', ''].map((t) => h('th', null, t)))),
        h('tbody', null, out.items.map(row)))) : empty('该社区还没有工作人员账号。'));
      list.dataset.loaded = 'true';
    } catch (e) {
      mount(list, errorBox(e, load));
    }
  }

  (async () => {
    try {
      const cs = await managedCommunities(ctx.me);
      if (!cs.length) {
        mount(list, empty('没有可管理的社区。'));
        return;
      }
      mount(pick, cs.map((c) => h('option', { value: c.id, selected: c.id === communityId }, c.name)));
      if (communityId && cs.some((c) => c.id === communityId)) pick.value = communityId;
      load();
    } catch (e) {
      mount(list, errorBox(e));
    }
  })();
  return { el };
}
