// Notifications, newest first; opening one marks it read and goes to what
// it is about.

import { api } from '../api.js';
import { h, mount, errorBox, empty, busy, label, fmtAgo, debounce, NOTIFICATION } from '../ui.js';

function target(n) {
  if (n.subject?.type === 'case') return `#/case/${encodeURIComponent(n.subject.id)}`;
  if (n.thread_id) return `#/thread/${encodeURIComponent(n.thread_id)}`;
  if (n.subject?.type === 'firm') return '#/firms';
  return null;
}

export function notificationsView(ctx) {
  const st = { unread: false, items: [], cursor: null };
  const list = h('ul', { class: 'notif-list', id: 'notifications' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');
  const only = h('input', { type: 'checkbox', onchange: () => { st.unread = only.checked; load(); } });
  const all = h('button', { class: 'btn', type: 'button', onclick: (e) => busy(e.currentTarget, async () => {
    await api.post('/api/v1/notifications/read-all');
    await load();
  }) }, '全部标为已读');
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '通知'), h('div', { class: 'filters' }, h('label', { class: 'check' }, only, '仅未读'), all)),
    list, h('div', { class: 'more' }, more));

  async function load(append = false) {
    try {
      const page = await api.get('/api/v1/notifications', { unread: st.unread || undefined, limit: 30, cursor: append ? st.cursor : undefined });
      st.items = append ? st.items.concat(page.items) : page.items;
      st.cursor = page.next_cursor;
      ctx.setUnread(page.unread_count ?? 0);
      mount(list, st.items.length ? st.items.map(row) : empty('暂无通知。'));
      more.hidden = !st.cursor;
    } catch (e) {
      mount(list, errorBox(e, () => load()));
    }
  }

  function row(n) {
    const go = target(n);
    const open = async () => {
      if (!n.read_at) {
        try {
          await api.post(`/api/v1/notifications/${n.id}/read`);
        } catch {
          /* still go there */
        }
      }
      if (go) location.hash = go;
      else load();
    };
    return h('li', { class: `notif${n.read_at ? '' : ' is-unread'}`, dataset: { notificationId: n.id } },
      h('button', { type: 'button', class: 'notif-btn', onclick: open },
        h('div', { class: 'notif-head' },
          h('span', { class: 'badge badge-muted' }, label(NOTIFICATION, n.type)),
          h('strong', null, n.title),
          h('span', { class: 'muted small' }, fmtAgo(n.updated_at || n.created_at))),
        n.body && h('div', { class: 'notif-body' }, n.body)));
  }

  const reload = debounce(() => load(), 300);
  load();
  return {
    el,
    onEvent(type) {
      if (type === 'notification') reload();
    },
  };
}
