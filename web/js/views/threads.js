// Chat threads: the ones the staff member joined, or every thread of the
// community (to join and broker), and one thread full-page.

import { api } from '../api.js';
import { h, mount, errorBox, empty, fmtAgo, debounce } from '../ui.js';
import { chatPanel } from './chat.js';

export function threadsView() {
  const st = { scope: 'mine', items: [], cursor: null };
  const list = h('ul', { class: 'thread-list' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');
  const scope = h('select', { 'aria-label': '范围', onchange: () => { st.scope = scope.value; load(); } },
    h('option', { value: 'mine' }, '我参与的会话'),
    h('option', { value: 'community' }, '本社区全部会话'));

  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '会话'), scope),
    list, h('div', { class: 'more' }, more));

  async function load(append = false) {
    try {
      const page = await api.get('/api/v1/threads', { scope: st.scope, limit: 30, cursor: append ? st.cursor : undefined });
      st.items = append ? st.items.concat(page.items) : page.items;
      st.cursor = page.next_cursor;
      mount(list, st.items.length ? st.items.map(row) : empty('暂无会话。'));
      more.hidden = !st.cursor;
    } catch (e) {
      mount(list, errorBox(e, () => load()));
    }
  }

  function row(t) {
    const last = t.last_message;
    return h('li', null,
      h('a', { class: 'thread-row', href: `#/thread/${encodeURIComponent(t.id)}`, dataset: { threadId: t.id } },
        h('div', { class: 'thread-main' },
          h('div', { class: 'thread-title' }, t.title,
            t.status === 'closed' && h('span', { class: 'badge badge-muted' }, '已关闭'),
            t.my_role === 'observer' && h('span', { class: 'badge badge-muted' }, '未加入')),
          h('div', { class: 'muted small' }, (t.firms || []).map((f) => f.name).join(' ⇄ ')),
          last && h('div', { class: 'thread-last' }, last.author_name ? `${last.author_name}：` : '', last.preview)),
        h('div', { class: 'thread-side' },
          h('span', { class: 'muted small' }, fmtAgo(t.updated_at)),
          t.unread > 0 && h('span', { class: 'count' }, String(t.unread)))));
  }

  const reload = debounce(() => load(), 300);
  load();
  return {
    el,
    onEvent(type) {
      if (type === 'message.created' || type === 'thread.created' || type === 'thread.updated' || type === 'thread.read') reload();
    },
  };
}

export function threadView(ctx, threadId) {
  const chat = chatPanel(ctx, threadId);
  const el = h('section', { class: 'page page-chat' },
    h('div', { class: 'page-head' }, h('a', { href: '#/threads', class: 'back' }, '← 全部会话')),
    chat.el);
  return { el, onEvent: chat.onEvent, onLiveState: chat.onLiveState, destroy: chat.destroy };
}
