// A chat panel on one thread: newest messages, older ones on demand, live
// messages appended in seq order (a gap is filled from the server), a
// composer whose retries never post twice (client_msg_id), and read markers.

import { api, ApiError } from '../api.js';
import { h, mount, errorBox, fmtTime, busy, toastError, label, MATCH_STATUS } from '../ui.js';

function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Returns {el, onEvent, destroy} for the thread `threadId`. */
export function chatPanel(ctx, threadId, { compact = false } = {}) {
  const st = { thread: null, messages: [], lastSeq: 0, firstSeq: null, hasMore: false, pendingId: null, readSeq: 0 };
  const header = h('div', { class: 'chat-head' });
  const log = h('ol', { class: 'chat-log', 'aria-live': 'polite', dataset: { threadId } });
  const older = h('button', { class: 'btn btn-small', type: 'button', hidden: true, onclick: () => loadOlder() }, '更早的消息');
  const text = h('textarea', { name: 'message', rows: 2, maxlength: 4000, placeholder: '输入消息，回车发送（Shift+回车换行）' });
  const send = h('button', { class: 'btn btn-primary', type: 'submit' }, '发送');
  const composer = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); post(); } }, text, send);
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      post();
    }
  });
  text.addEventListener('input', () => { st.pendingId = null; });
  const el = h('section', { class: `chat${compact ? ' chat-compact' : ''}`, dataset: { threadId } },
    header, h('div', { class: 'chat-scroll' }, h('div', { class: 'chat-older' }, older), log), composer);

  function renderHeader() {
    const t = st.thread;
    const firms = (t.firms || []).map((f) => f.name).join(' ⇄ ');
    const match = t.subject?.match;
    const actions = [];
    if (t.my_role === 'observer') {
      actions.push(h('button', { class: 'btn btn-small btn-primary', type: 'button', dataset: { action: 'join' },
        onclick: (e) => busy(e.currentTarget, async () => { st.thread = await api.post(`/api/v1/threads/${threadId}/join`); await loadLatest(); }) }, '加入会话'));
    } else if (t.status === 'open') {
      actions.push(h('button', { class: 'btn btn-small', type: 'button',
        onclick: (e) => busy(e.currentTarget, async () => { st.thread = await api.post(`/api/v1/threads/${threadId}/close`); renderHeader(); }) }, '关闭会话'));
    } else {
      actions.push(h('button', { class: 'btn btn-small', type: 'button',
        onclick: (e) => busy(e.currentTarget, async () => { st.thread = await api.post(`/api/v1/threads/${threadId}/reopen`); renderHeader(); }) }, '重新打开'));
    }
    mount(header,
      h('div', null,
        h('div', { class: 'chat-title' }, t.title),
        h('div', { class: 'muted small' }, firms,
          match && ` · 匹配状态：${label(MATCH_STATUS, match.status)}`,
          t.status === 'closed' && ' · 已关闭')),
      h('div', { class: 'chat-actions' }, actions));
    const canWrite = t.my_role !== 'observer' && t.status === 'open';
    text.disabled = !canWrite;
    send.disabled = !canWrite;
    text.placeholder = t.my_role === 'observer' ? '加入会话后可发言' : t.status === 'closed' ? '会话已关闭' : '输入消息，回车发送（Shift+回车换行）';
  }

  function item(m) {
    const mine = m.author?.user_id === ctx.me?.user?.id;
    if (m.kind === 'system') {
      return h('li', { class: 'msg msg-system', dataset: { seq: m.seq, kind: 'system' } },
        h('span', null, m.text), h('time', { datetime: m.created_at }, fmtTime(m.created_at)));
    }
    return h('li', { class: `msg${mine ? ' msg-mine' : ''}${m.author?.role === 'staff' ? ' msg-staff' : ''}`, dataset: { seq: m.seq, kind: 'text' } },
      h('div', { class: 'msg-meta' },
        h('strong', null, m.author?.name || '—'),
        m.author?.role === 'staff' && h('span', { class: 'badge badge-staff' }, '社区'),
        h('time', { datetime: m.created_at }, fmtTime(m.created_at))),
      h('div', { class: 'msg-text' }, m.text));
  }

  function renderAll() {
    mount(log, st.messages.map(item));
    older.hidden = !st.hasMore;
    scrollDown();
  }

  function scrollDown() {
    const box = log.parentElement;
    box.scrollTop = box.scrollHeight;
  }

  function add(msgs) {
    let changed = false;
    for (const m of msgs) {
      if (m.seq <= st.lastSeq) continue;
      st.messages.push(m);
      st.lastSeq = m.seq;
      log.append(item(m));
      changed = true;
    }
    if (changed) {
      scrollDown();
      markRead();
    }
  }

  async function markRead() {
    if (st.thread?.my_role === 'observer' || st.lastSeq <= st.readSeq) return;
    st.readSeq = st.lastSeq;
    try {
      await api.post(`/api/v1/threads/${threadId}/read`, { seq: st.lastSeq });
    } catch {
      /* a read marker that did not move is harmless */
    }
  }

  async function loadLatest() {
    renderHeader();
    if (st.thread.my_role === 'observer') {
      mount(log, h('li', { class: 'msg msg-system' }, '您尚未加入此会话，加入后可查看和发送消息。'));
      return;
    }
    const page = await api.get(`/api/v1/threads/${threadId}/messages`, { limit: 50 });
    st.messages = page.items;
    st.lastSeq = page.items.length ? page.items[page.items.length - 1].seq : 0;
    st.firstSeq = page.items.length ? page.items[0].seq : null;
    st.hasMore = page.has_more;
    st.readSeq = page.last_read_seq;
    renderAll();
    markRead();
    el.dataset.loaded = 'true';
  }

  async function loadOlder() {
    if (!st.firstSeq) return;
    await busy(older, async () => {
      const page = await api.get(`/api/v1/threads/${threadId}/messages`, { before_seq: st.firstSeq, limit: 50 });
      st.messages = page.items.concat(st.messages);
      st.firstSeq = st.messages.length ? st.messages[0].seq : null;
      st.hasMore = page.has_more;
      const box = log.parentElement;
      const fromBottom = box.scrollHeight - box.scrollTop;
      mount(log, st.messages.map(item));
      older.hidden = !st.hasMore;
      box.scrollTop = box.scrollHeight - fromBottom;
    });
  }

  async function catchUp() {
    if (st.thread?.my_role === 'observer') return;
    try {
      let more = true;
      while (more) {
        const page = await api.get(`/api/v1/threads/${threadId}/messages`, { after_seq: st.lastSeq, limit: 200 });
        add(page.items);
        more = page.has_more && page.items.length > 0;
      }
    } catch (e) {
      toastError(e);
    }
  }

  async function post() {
    const body = text.value.trim();
    if (!body || send.disabled) return;
    st.pendingId ||= newClientId();
    await busy(send, async () => {
      try {
        const m = await api.post(`/api/v1/threads/${threadId}/messages`, { client_msg_id: st.pendingId, text: body });
        st.pendingId = null;
        text.value = '';
        if (m.seq === st.lastSeq + 1) add([m]);
        else await catchUp();
      } catch (e) {
        if (e instanceof ApiError && e.code === 'thread_closed') {
          st.thread = await api.get(`/api/v1/threads/${threadId}`);
          renderHeader();
        }
        throw e;
      }
    });
    text.focus();
  }

  async function init() {
    try {
      st.thread = await api.get(`/api/v1/threads/${threadId}`);
      await loadLatest();
    } catch (e) {
      mount(log, h('li', null, errorBox(e, init)));
    }
  }
  init();

  return {
    el,
    onEvent(type, data) {
      if (!data || data.thread_id !== threadId || !st.thread) return;
      if (type === 'message.created') {
        if (data.seq === st.lastSeq + 1) add([data]);
        else if (data.seq > st.lastSeq) catchUp();
      } else if (type === 'thread.updated') {
        if (data.status && data.status !== st.thread.status) {
          st.thread.status = data.status;
          renderHeader();
        }
        if (data.last_seq > st.lastSeq) catchUp();
      }
    },
    onLiveState(s) {
      if (s === 'open') catchUp();
    },
    destroy() {},
  };
}
