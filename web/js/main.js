// The console shell: sign-in, the navigation, the hash router and the one
// live event stream whose events go to the badge counters and to the view
// on screen.

import { api, errorText } from './api.js';
import { LiveEvents } from './events.js';
import { h, mount, toast, NOTIFICATION, label } from './ui.js';
import { queueView } from './views/queue.js';
import { caseView } from './views/case.js';
import { threadsView, threadView } from './views/threads.js';
import { firmsView } from './views/firms.js';
import { searchView } from './views/search.js';
import { statsView } from './views/stats.js';
import { auditView } from './views/audit.js';
import { notificationsView } from './views/notifications.js';
import { frontdeskView } from './views/frontdesk.js';
import { moderationView } from './views/moderation.js';
import { sheetsView } from './views/sheets.js';
import { clientsView, clientView } from './views/clients.js';
import { vocabularyView } from './views/vocabulary.js';
import { digestView } from './views/digest.js';
import { districtView } from './views/district.js';
import { staffAdminView } from './views/staffadmin.js';
import { communitiesView } from './views/communities.js';

const NAV = [
  ['#/queue', '工单队列', 'queue'],
  ['#/frontdesk', '前台代办', 'frontdesk'],
  ['#/digest', '供需速递', 'digest'],
  ['#/moderation', '举报处理', 'moderation'],
  ['#/sheets', '表格导入导出', 'sheets'],
  ['#/threads', '会话', 'threads'],
  ['#/firms', '企业认证', 'firms'],
  ['#/search', '信息检索', 'search'],
  ['#/vocabulary', '词库', 'vocabulary'],
  ['#/stats', '统计', 'stats'],
  ['#/audit', '审计日志', 'audit'],
  ['#/clients', '接口客户端', 'clients'],
  ['#/notifications', '通知', 'notifications'],
];

// Administration: for platform admins and district administrators (who
// see these and the notifications only, not the staff desk).
const ADMIN_NAV = [
  ['#/district', '区域', 'district', (r) => r.platform || r.district],
  ['#/staff', '工作人员', 'staff', (r) => r.platform || r.district],
  ['#/communities', '社区', 'communities', (r) => r.platform],
];

function roleOf(me) {
  const has = (x) => me.roles?.includes(x);
  return { platform: has('platform_admin'), staff: has('community_staff'), district: has('district_admin') };
}

/** The nav entries the signed-in role may use. */
function navFor(me) {
  const r = roleOf(me);
  const desk = NAV.filter(([, , key]) => (r.platform || r.staff) && key !== 'notifications');
  const admin = ADMIN_NAV.filter(([, , , may]) => may(r)).map(([href, text, key]) => [href, text, key]);
  return desk.concat(admin, NAV.filter(([, , key]) => key === 'notifications'));
}

const ROUTES = [
  [/^#\/queue$/, () => queueView],
  [/^#\/frontdesk$/, () => frontdeskView],
  [/^#\/digest$/, () => digestView],
  [/^#\/moderation$/, () => moderationView],
  [/^#\/sheets$/, () => sheetsView],
  [/^#\/case\/([^/]+)$/, () => caseView],
  [/^#\/threads$/, () => threadsView],
  [/^#\/thread\/([^/]+)$/, () => threadView],
  [/^#\/firms$/, () => firmsView],
  [/^#\/search$/, () => searchView],
  [/^#\/vocabulary$/, () => vocabularyView],
  [/^#\/stats$/, () => statsView],
  [/^#\/audit$/, () => auditView],
  [/^#\/clients$/, () => clientsView],
  [/^#\/clients\/([^/]+)$/, () => clientView],
  [/^#\/notifications$/, () => notificationsView],
  [/^#\/queue\/([^/]+)$/, () => queueView],
  [/^#\/district$/, () => districtView],
  [/^#\/staff(?:\/([^/]+))?$/, () => staffAdminView],
  [/^#\/communities$/, () => communitiesView],
];

const app = {
  me: null,
  view: null,
  live: null,
  liveState: 'down',
  unread: 0,
  root: document.getElementById('app'),
  main: null,
  nav: null,
};

/** What views get: the signed-in user and a way to follow live events. */
const ctx = {
  get me() {
    return app.me;
  },
  get liveState() {
    return app.liveState;
  },
  setUnread(n) {
    setUnread(n);
  },
};

function setUnread(n) {
  app.unread = Math.max(0, n | 0);
  const el = document.getElementById('unread-badge');
  if (el) {
    el.textContent = app.unread > 99 ? '99+' : String(app.unread);
    el.hidden = app.unread === 0;
  }
}

function setLiveState(state) {
  app.liveState = state;
  const el = document.getElementById('live-status');
  if (!el) return;
  el.dataset.state = state;
  el.textContent = { open: '实时已连接', connecting: '正在连接…', down: '连接中断，重试中' }[state];
  app.view?.onLiveState?.(state);
}

function onEvent(type, data) {
  if (type === 'notification') {
    if (data && !data.read_at) {
      refreshUnread();
      toast(`${data.title || label(NOTIFICATION, data.type)}${data.body ? `：${data.body}` : ''}`);
    }
  }
  app.view?.onEvent?.(type, data);
}

async function refreshUnread() {
  try {
    const page = await api.get('/api/v1/notifications', { unread: true, limit: 1 });
    setUnread(page.unread_count ?? 0);
  } catch {
    /* the badge is a convenience; the notifications view shows errors */
  }
}

// ------------------------------------------------------------------ sign-in

function loginScreen(message) {
  app.me = null;
  app.live?.stop();
  app.live = null;
  app.view?.destroy?.();
  app.view = null;
  const error = h('p', { class: 'form-error', role: 'alert', hidden: !message }, message || '');
  const login = h('input', { name: 'login', autocomplete: 'username', required: true, placeholder: '手机号或邮箱' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, '登录');
  const form = h(
    'form',
    { id: 'login-form', class: 'login-card', onsubmit: async (e) => {
      e.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      try {
        await api.login(login.value.trim(), password.value);
        await start();
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
        api.clear();
      } finally {
        submit.disabled = false;
      }
    } },
    h('div', { class: 'brand brand-large' }, h('img', { src: '/console/icon.svg', alt: '' }), '智企连'),
    h('h1', null, '社区工作台'),
    h('p', { class: 'muted' }, '社区工作人员登录后处理紧急求助、撮合对接与企业认证。'),
    h('label', null, '账号', login),
    h('label', null, '密码', password),
    error,
    submit,
  );
  mount(app.root, h('main', { class: 'login' }, form));
  login.focus();
}

async function start() {
  const me = await api.get('/api/v1/me');
  const r = roleOf(me);
  if (!r.staff && !r.platform && !r.district) {
    await api.logout();
    throw new Error('该账号不是社区工作人员，无法使用工作台');
  }
  app.me = me;
  shell();
  app.live = new LiveEvents(onEvent, setLiveState);
  app.live.start();
  refreshUnread();
  if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = home();
  else route();
}

/** The first page: the queue, or the district comparison for district administrators. */
function home() {
  const r = roleOf(app.me);
  return r.staff || r.platform ? '#/queue' : '#/district';
}

function shell() {
  const me = app.me;
  const who = me.staff?.community_name || (me.roles.includes('platform_admin') ? '平台管理员' : '')
    || (me.districts || []).map((d) => `${d.name} 区域管理员`).join('、');
  app.nav = h(
    'nav',
    { class: 'nav', 'aria-label': '主导航' },
    navFor(me).map(([href, text, key]) =>
      h('a', { href, dataset: { nav: key } }, text,
        key === 'notifications' && h('span', { id: 'unread-badge', class: 'count', hidden: true }, '0'))),
  );
  app.main = h('main', { id: 'view', class: 'view', tabindex: '-1' });
  mount(
    app.root,
    h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: home() }, h('img', { src: '/console/icon.svg', alt: '' }), '智企连 · 社区工作台'),
      h('span', { id: 'live-status', class: 'live', dataset: { state: app.liveState } }, '正在连接…'),
      h('span', { class: 'who' }, `${me.user.display_name}${who ? ` · ${who}` : ''}`),
      h('button', { class: 'btn btn-small', type: 'button', id: 'logout', onclick: async () => {
        await api.logout();
        loginScreen();
      } }, '退出')),
    h('div', { class: 'layout' }, app.nav, app.main),
  );
}

function route() {
  if (!app.me) return;
  const hash = location.hash || home();
  let found = null;
  let params = [];
  for (const [re, get] of ROUTES) {
    const m = hash.match(re);
    if (m) {
      found = get();
      params = m.slice(1).map(decodeURIComponent);
      break;
    }
  }
  app.view?.destroy?.();
  app.view = null;
  for (const a of app.nav.querySelectorAll('a')) {
    const key = a.dataset.nav;
    const active = hash === `#/${key}` || hash.startsWith(`#/${key}/`) || (key === 'queue' && hash.startsWith('#/case/')) || (key === 'threads' && hash.startsWith('#/thread/'));
    a.classList.toggle('active', active);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!found) {
    mount(app.main, h('p', { class: 'empty' }, '页面不存在。'), h('a', { href: '#/queue' }, '返回工单队列'));
    return;
  }
  const view = found(ctx, ...params);
  app.view = view;
  mount(app.main, view.el);
  window.scrollTo(0, 0);
}

/** A script error is shown (and counted on <body data-errors>) rather than lost. */
function reportError(message) {
  document.body.dataset.errors = String(Number(document.body.dataset.errors || 0) + 1);
  toast(`页面出错：${message}`, 'error');
}
window.addEventListener('error', (e) => reportError(e.message));
window.addEventListener('unhandledrejection', (e) => reportError(errorText(e.reason)));

window.addEventListener('hashchange', route);
api.onSignedOut = (message) => loginScreen(message);

if (api.signedIn) {
  start().catch((e) => loginScreen(errorText(e)));
} else {
  loginScreen();
}
