// 社区 (platform admins): the communities and the districts over them —
// create a community or a district, assign communities to a district and
// name its administrators (a new account gets a one-time code to set its
// password).

import { api } from '../api.js';
import { h, mount, errorBox, empty, busy, toast, fmtTime } from '../ui.js';

export function communitiesView() {
  const communities = h('div', { id: 'community-list' }, h('p', { class: 'muted' }, '正在加载…'));
  const districts = h('div', { id: 'district-list', class: 'admin-grid' });
  const cName = h('input', { name: 'name', required: true, minlength: 2, maxlength: 64, placeholder: '例如：大港工业社区' });
  const cArea = h('input', { name: 'district', maxlength: 64, placeholder: '所在行政区，例如：北仑区' });
  const dName = h('input', { name: 'name', required: true, minlength: 2, maxlength: 64, placeholder: '例如：北仑区经信局' });
  let all = [];

  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '社区与区域')),
    h('div', { class: 'card' }, h('h2', null, '社区'),
      h('form', { class: 'toolbar', id: 'community-form', onsubmit: (e) => {
        e.preventDefault();
        busy(e.submitter, async () => {
          await api.post('/api/v1/communities', { name: cName.value.trim(), district: cArea.value.trim() });
          toast(`已创建社区 ${cName.value.trim()}`);
          cName.value = '';
          load();
        });
      } }, h('label', null, '名称', cName), h('label', null, '行政区', cArea),
      h('button', { class: 'btn btn-primary', type: 'submit' }, '创建社区')),
      communities),
    h('div', { class: 'card' }, h('h2', null, '区域'),
      h('p', { class: 'muted small' }, '区域管理员可查看所辖各社区的工单与统计并进行对比，并管理其工作人员账号。'),
      h('form', { class: 'toolbar', id: 'district-form', onsubmit: (e) => {
        e.preventDefault();
        busy(e.submitter, async () => {
          await api.post('/api/v1/districts', { name: dName.value.trim() });
          toast(`已创建区域 ${dName.value.trim()}`);
          dName.value = '';
          load();
        });
      } }, h('label', null, '区域名称', dName), h('button', { class: 'btn btn-primary', type: 'submit' }, '创建区域'))),
    districts);

  function districtCard(d) {
    const inIt = new Set(d.communities.map((c) => c.id));
    const add = h('select', { name: 'community', 'aria-label': '划入社区' },
      all.filter((c) => !inIt.has(c.id)).map((c) => h('option', { value: c.id }, c.name)));
    const login = h('input', { name: 'login', placeholder: '手机号或邮箱', required: true, autocomplete: 'off' });
    const name = h('input', { name: 'display_name', placeholder: '姓名（新账号必填）', maxlength: 64 });
    const result = h('div');
    const base = `/api/v1/districts/${encodeURIComponent(d.id)}`;
    return h('div', { class: 'card', dataset: { district: d.id } },
      h('h2', null, d.name),
      h('h3', { class: 'small muted' }, '所辖社区'),
      h('div', { class: 'chips' }, d.communities.length ? d.communities.map((c) => h('span', { class: 'chip' }, c.name,
        h('button', { type: 'button', title: `移出 ${c.name}`, 'aria-label': `移出 ${c.name}`, onclick: (e) => busy(e.currentTarget, async () => {
          await api.request('DELETE', `${base}/communities/${encodeURIComponent(c.id)}`);
          load();
        }) }, '×'))) : h('span', { class: 'muted small' }, '暂无')),
      add.options.length ? h('div', { class: 'toolbar' }, add, h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'assign' }, onclick: (e) => busy(e.currentTarget, async () => {
        await api.request('PUT', `${base}/communities/${encodeURIComponent(add.value)}`);
        load();
      }) }, '划入')) : null,
      h('h3', { class: 'small muted' }, '区域管理员'),
      h('div', { class: 'chips' }, d.admins.length ? d.admins.map((a) => h('span', { class: 'chip' }, a.display_name,
        h('button', { type: 'button', title: `移除 ${a.display_name}`, 'aria-label': `移除 ${a.display_name}`, onclick: (e) => busy(e.currentTarget, async () => {
          await api.request('DELETE', `${base}/admins/${encodeURIComponent(a.id)}`);
          load();
        }) }, '×'))) : h('span', { class: 'muted small' }, '暂无')),
      h('form', { class: 'toolbar', onsubmit: (e) => {
        e.preventDefault();
        busy(e.submitter, async () => {
          const body = { login: login.value.trim() };
          if (name.value.trim()) body.display_name = name.value.trim();
          const out = await api.post(`${base}/admins`, body);
          await load();
          if (out.invite) {
            toast('已创建区域管理员账号');
            const card = districts.querySelector(`[data-district="${d.id}"]`);
            card?.append(h('div', { class: 'alert alert-info', role: 'status' },
              `新账号的一次性设置码（仅显示这一次，${fmtTime(out.invite.expires_at)} 前有效）：`, h('strong', { class: 'code' }, out.invite.code)));
          } else {
            toast('已添加区域管理员');
          }
        });
      } }, login, name, h('button', { type: 'submit', class: 'btn btn-small' }, '添加管理员')),
      result);
  }

  async function load() {
    try {
      const [cs, ds] = await Promise.all([api.get('/api/v1/communities'), api.get('/api/v1/districts')]);
      all = cs.items;
      mount(communities, all.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'data-table' },
        h('thead', null, h('tr', null, ['社区', '行政区', '所属区域', ''].map((t) => h('th', null, t)))),
        h('tbody', null, all.map((c) => h('tr', null,
          h('th', null, c.name), h('td', null, c.district || '—'),
          h('td', null, ds.items.filter((d) => d.communities.some((x) => x.id === c.id)).map((d) => d.name).join('、') || '—'),
          h('td', { class: 'nowrap' }, h('a', { href: `#/staff/${encodeURIComponent(c.id)}` }, '工作人员'))))))) : empty('还没有社区。'));
      mount(districts, ds.items.length ? ds.items.map(districtCard) : empty('还没有区域。'));
    } catch (e) {
      mount(communities, errorBox(e, load));
    }
  }

  load();
  return { el };
}
