// API clients (接口客户端): staff and platform admins create clients for a
// firm or their community (the secret is shown once, with a copy button),
// rotate and revoke them, see their usage per day, and manage the client's
// webhook subscriptions: create, disable/enable, delete, a test push (测试推送)
// and the delivery log with a resend (重发) per delivery.

import { api } from '../api.js';
import { h, mount, errorBox, empty, busy, toast, fmtTime, badge, dialog } from '../ui.js';
import { lineChart } from '../charts.js';

export const SCOPES = {
  'listings:read': '读取供需',
  'listings:write': '发布供需',
  'matches:read': '读取匹配',
  'matches:write': '更新匹配',
  'threads:read': '读取会话',
  'threads:write': '发送消息',
  'events:read': '事件流',
  'firms:read': '读取企业',
  'webhooks:manage': '自管推送',
  'quotes:read': '读取报价',
  'quotes:write': '提交报价',
  'agreements:read': '读取协议',
  'agreements:write': '签订协议',
  'attachments:read': '读取附件',
  'attachments:write': '上传附件',
};

export const EVENT_TYPES = {
  'listing.created': '新供需',
  'listing.closed': '供需关闭',
  'match.created': '新匹配',
  'match.status_changed': '匹配状态变化',
  'message.created': '新消息',
  'emergency.opened': '紧急求助',
  'emergency.resolved': '紧急求助结案',
  'quote.created': '新报价',
  'quote.updated': '报价更新',
  'agreement.proposed': '协议发起',
  'agreement.confirmed': '协议确认',
  'agreement.completed': '协议完成',
  'agreement.cancelled': '协议取消',
  'rating.published': '评价发布',
  ping: '测试推送',
};

const DELIVERY = { pending: ['待发送', 's-claimed'], delivered: ['已送达', 'ok'], failed: ['失败', 's-open'] };

/** A secret shown this once, with a copy button. */
function showSecret(title, what, secret) {
  const code = h('code', { class: 'secret', id: 'secret-value' }, secret);
  dialog(title, h('div', null,
    h('p', null, `${what}只显示这一次，关闭后无法再次查看。请立即复制并妥善保存（不要写进代码仓库）。`),
    h('p', { class: 'secret-box' }, code)),
  (close) => [
    h('button', { class: 'btn', type: 'button', id: 'copy-secret', onclick: async (e) => {
      const button = e.currentTarget;
      try {
        await navigator.clipboard.writeText(secret);
        toast('已复制到剪贴板', 'ok');
      } catch {
        // Without clipboard access, select it for Ctrl+C.
        const r = document.createRange();
        r.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        toast('已选中，请按 Ctrl+C 复制');
      }
      button.textContent = '已复制';
    } }, '复制'),
    h('button', { class: 'btn btn-primary', type: 'button', id: 'secret-done', onclick: close }, '我已保存'),
  ]);
}

function confirmDialog(title, text, label, action) {
  dialog(title, h('p', null, text), (close) =>
    h('button', { class: 'btn btn-primary', type: 'button', dataset: { action: 'confirm' }, onclick: (e) => busy(e.currentTarget, async () => {
      await action();
      close();
    }) }, label));
}

// ------------------------------------------------------------------ list

export function clientsView(ctx) {
  const st = { items: [], cursor: null, firms: new Map(), communities: [] };
  const rows = h('tbody');
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => load(true) }, '加载更多');
  const box = h('div', { class: 'table-scroll' }, h('table', { class: 'data-table', id: 'clients' },
    h('thead', null, h('tr', null, h('th', null, '名称'), h('th', null, '归属'), h('th', null, '权限范围'), h('th', null, '状态'), h('th', null, '创建时间'))),
    rows));
  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '接口客户端'),
      h('button', { class: 'btn btn-primary', type: 'button', id: 'client-new', onclick: () => createDialog() }, '新建客户端')),
    h('p', { class: 'muted' }, '第三方应用（园区平台、企业系统）以客户端编号和密钥换取访问令牌调用接口。可为本社区或本社区的企业创建，轮换或吊销密钥，查看调用量，并代客户端管理 webhook 推送。'),
    box, h('div', { class: 'more' }, more));

  async function loadFirms() {
    try {
      if (!ctx.me.staff) st.communities = (await api.get('/api/v1/communities')).items;
      let cursor;
      do {
        const page = await api.get('/api/v1/firms', { limit: 100, cursor });
        for (const f of page.items) st.firms.set(f.id, f.name);
        cursor = page.next_cursor;
      } while (cursor && st.firms.size < 1000);
    } catch {
      /* names are a convenience: ids are shown without them */
    }
  }

  async function load(append = false) {
    try {
      const page = await api.get('/api/v1/clients', { limit: 50, cursor: append ? st.cursor : undefined });
      st.items = append ? st.items.concat(page.items) : page.items;
      st.cursor = page.next_cursor;
      render();
    } catch (e) {
      mount(rows, h('tr', null, h('td', { colspan: 5 }, errorBox(e, () => load()))));
    }
  }

  function owner(c) {
    return c.firm_id ? `企业：${st.firms.get(c.firm_id) || c.firm_id}` : '社区';
  }

  function render() {
    mount(rows, st.items.length
      ? st.items.map((c) => h('tr', { dataset: { clientId: c.id } },
        h('td', null, h('a', { href: `#/clients/${encodeURIComponent(c.id)}` }, c.name)),
        h('td', null, owner(c)),
        h('td', { class: 'small' }, c.scopes.map((s) => SCOPES[s] || s).join('、')),
        h('td', null, c.status === 'active' ? badge('启用中', 'ok') : badge('已吊销', 's-open')),
        h('td', null, fmtTime(c.created_at))))
      : h('tr', null, h('td', { colspan: 5 }, empty('还没有接口客户端。'))));
    more.hidden = !st.cursor;
  }

  function createDialog() {
    const me = ctx.me;
    const name = h('input', { name: 'name', required: true, minlength: 2, maxlength: 64, placeholder: '如：园区能耗平台' });
    const target = h('select', { name: 'owner', 'aria-label': '归属' });
    if (me.staff) target.append(h('option', { value: `community:${me.staff.community_id}` }, `本社区（${me.staff.community_name}）`));
    for (const c of st.communities) target.append(h('option', { value: `community:${c.id}` }, `社区：${c.name}`));
    for (const [id, n] of st.firms) target.append(h('option', { value: `firm:${id}` }, `企业：${n}`));
    const scopes = h('fieldset', { class: 'radios scope-list' }, h('legend', null, '权限范围'),
      Object.entries(SCOPES).map(([v, t]) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'scope', value: v, checked: v === 'listings:read' }), ` ${t} `, h('code', { class: 'small' }, v))));
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    dialog('新建接口客户端', h('div', { id: 'client-form' }, h('label', null, '名称', name), h('label', null, '归属', target), scopes, error), (close) =>
      h('button', { class: 'btn btn-primary', type: 'button', id: 'client-create', onclick: (e) => busy(e.currentTarget, async () => {
        const [kind, id] = target.value.split(':');
        const body = {
          name: name.value.trim(),
          scopes: [...scopes.querySelectorAll('input:checked')].map((i) => i.value),
          ...(kind === 'firm' ? { firm_id: id } : { community_id: id }),
        };
        const c = await api.post('/api/v1/clients', body);
        close();
        showSecret('客户端已创建', `客户端编号：${c.id}。客户端密钥`, c.client_secret);
        location.hash = `#/clients/${encodeURIComponent(c.id)}`;
      }) }, '创建'));
    name.focus();
  }

  loadFirms().then(() => load());
  return { el };
}

// ------------------------------------------------------------------ one client

export function clientView(ctx, id) {
  const st = { client: null, hooks: [], selected: null };
  const head = h('div', { class: 'page-head' }, h('h1', null, '接口客户端'));
  const facts = h('div', { class: 'card', id: 'client-facts' });
  const usage = h('div', { class: 'card', id: 'client-usage' });
  const hooks = h('div', { class: 'card', id: 'client-webhooks' });
  const log = h('div', { class: 'card', id: 'webhook-log', hidden: true });
  const el = h('section', { class: 'page' },
    h('a', { class: 'back', href: '#/clients' }, '← 全部客户端'), head, facts, usage, hooks, log);
  const base = `/api/v1/clients/${encodeURIComponent(id)}`;

  async function loadClient() {
    try {
      st.client = await api.get(base);
      renderFacts();
    } catch (e) {
      mount(facts, errorBox(e, loadClient));
    }
  }

  function renderFacts() {
    const c = st.client;
    const live = c.status === 'active';
    mount(head, h('h1', null, c.name), h('span', { class: 'actions' },
      live && h('button', { class: 'btn', type: 'button', id: 'client-rotate', onclick: () => confirmDialog('轮换密钥',
        '生成新密钥后，旧密钥及其签发的令牌立即失效，对方应用须换用新密钥。', '轮换', async () => {
          const out = await api.post(`${base}/rotate`);
          st.client = out;
          renderFacts();
          showSecret('新密钥', '新的客户端密钥', out.client_secret);
        }) }, '轮换密钥'),
      live && h('button', { class: 'btn', type: 'button', id: 'client-revoke', onclick: () => confirmDialog('吊销客户端',
        `吊销“${c.name}”后，其密钥、令牌与事件流立即失效，且无法恢复。确定吊销？`, '吊销', async () => {
          st.client = await api.post(`${base}/revoke`);
          renderFacts();
          toast('已吊销', 'ok');
        }) }, '吊销')));
    mount(facts, h('dl', { class: 'facts' },
      h('dt', null, '客户端编号'), h('dd', null, h('code', { id: 'client-id' }, c.id)),
      h('dt', null, '状态'), h('dd', null, live ? badge('启用中', 'ok') : badge(`已吊销 ${fmtTime(c.revoked_at)}`, 's-open')),
      h('dt', null, '归属'), h('dd', null, c.firm_id ? `企业 ${c.firm_id}` : '社区'),
      h('dt', null, '权限范围'), h('dd', null, c.scopes.map((s) => h('span', { class: 'badge', title: s }, SCOPES[s] || s))),
      h('dt', null, '创建时间'), h('dd', null, fmtTime(c.created_at)),
      h('dt', null, '密钥轮换'), h('dd', null, c.secret_rotated_at ? fmtTime(c.secret_rotated_at) : '从未')));
  }

  async function loadUsage() {
    try {
      const u = await api.get(`${base}/usage`, { days: 30 });
      const days = u.days.map((d) => d.day);
      mount(usage,
        h('div', { class: 'card-head' }, h('h2', null, '调用量（近 30 天）'),
          h('span', { class: 'muted small', id: 'usage-last' }, u.last_used_at ? `最近调用 ${fmtTime(u.last_used_at)}` : '尚未调用')),
        h('div', { class: 'kpis', id: 'usage-totals' },
          kpi('请求', u.totals.requests), kpi('出错', u.totals.errors), kpi('签发令牌', u.totals.tokens)),
        lineChart(days, [
          { label: '请求', values: u.days.map((d) => d.requests) },
          { label: '出错', values: u.days.map((d) => d.errors) },
          { label: '签发令牌', values: u.days.map((d) => d.tokens) },
        ], { height: 200 }),
        h('p', { class: 'muted small' }, '按北京时间计日；各节点每 10 秒汇总写入一次。出错指以 4xx/5xx 应答的请求（含权限不足）。'));
    } catch (e) {
      mount(usage, errorBox(e, loadUsage));
    }
  }

  function kpi(title, v) {
    return h('div', { class: 'kpi' }, h('div', { class: 'kpi-title' }, title), h('div', { class: 'kpi-value' }, String(v)));
  }

  async function loadHooks() {
    try {
      st.hooks = (await api.get(`${base}/webhooks`)).items;
      renderHooks();
    } catch (e) {
      mount(hooks, errorBox(e, loadHooks));
    }
  }

  function renderHooks() {
    const live = st.client?.status !== 'revoked';
    const rows = st.hooks.map((w) => h('tr', { dataset: { webhookId: w.id } },
      h('td', { class: 'small' }, h('code', null, w.url)),
      h('td', { class: 'small' }, w.event_types.map((t) => EVENT_TYPES[t] || t).join('、')),
      h('td', null, w.status === 'active' ? badge('推送中', 'ok') : badge('已停用', 's-open'),
        w.disabled_reason && h('div', { class: 'muted small' }, w.disabled_reason)),
      h('td', null, h('span', { class: 'actions' },
        h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'log' }, onclick: () => { st.selected = w.id; loadLog(); } }, '投递记录'),
        w.status === 'active' && h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'ping' }, onclick: (e) => busy(e.currentTarget, async () => {
          await api.post(`${base}/webhooks/${w.id}/ping`);
          toast('已发送测试推送，结果见投递记录', 'ok');
          st.selected = w.id;
          loadLog();
          setTimeout(() => { if (st.selected === w.id) loadLog(); }, 1500);
        }) }, '测试推送'),
        w.status === 'active'
          ? h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'disable' }, onclick: (e) => busy(e.currentTarget, async () => {
            await api.post(`${base}/webhooks/${w.id}/disable`);
            loadHooks();
          }) }, '停用')
          : h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'enable' }, onclick: (e) => busy(e.currentTarget, async () => {
            await api.post(`${base}/webhooks/${w.id}/enable`);
            loadHooks();
          }) }, '启用'),
        h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'delete' }, onclick: () => confirmDialog('删除订阅',
          `删除推送到 ${w.url} 的订阅及其投递记录？`, '删除', async () => {
            await api.request('DELETE', `${base}/webhooks/${w.id}`);
            if (st.selected === w.id) { st.selected = null; log.hidden = true; }
            loadHooks();
          }) }, '删除')))));
    mount(hooks,
      h('div', { class: 'card-head' }, h('h2', null, 'Webhook 推送'),
        live && h('button', { class: 'btn btn-primary btn-small', type: 'button', id: 'webhook-new', onclick: () => hookDialog() }, '新建订阅')),
      h('p', { class: 'muted small' }, '事件发生后向对方地址 POST 签名的 JSON（Zhiqilian-Signature 头）。签名密钥只在创建时显示一次。停用期间的事件保留，启用后按序补发。'),
      st.hooks.length
        ? h('div', { class: 'table-scroll' }, h('table', { class: 'data-table', id: 'webhooks' },
          h('thead', null, h('tr', null, h('th', null, '地址'), h('th', null, '事件'), h('th', null, '状态'), h('th', null, '操作'))),
          h('tbody', null, rows)))
        : empty('还没有 webhook 订阅。'));
  }

  function hookDialog() {
    const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://example.com/hooks/zhiqilian' });
    const types = h('fieldset', { class: 'radios scope-list' }, h('legend', null, '订阅事件（须在客户端的权限范围内）'),
      Object.entries(EVENT_TYPES).filter(([v]) => v !== 'ping').map(([v, t]) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'event_type', value: v }), ` ${t} `, h('code', { class: 'small' }, v))));
    dialog('新建 webhook 订阅', h('div', { id: 'webhook-form' }, h('label', null, '推送地址', url), types), (close) =>
      h('button', { class: 'btn btn-primary', type: 'button', id: 'webhook-create', onclick: (e) => busy(e.currentTarget, async () => {
        const out = await api.post(`${base}/webhooks`, {
          url: url.value.trim(),
          event_types: [...types.querySelectorAll('input:checked')].map((i) => i.value),
        });
        close();
        showSecret('订阅已创建', '签名密钥', out.secret);
        loadHooks();
      }) }, '创建'));
    url.focus();
  }

  async function loadLog() {
    const w = st.hooks.find((x) => x.id === st.selected);
    if (!w) return;
    log.hidden = false;
    try {
      const page = await api.get(`${base}/webhooks/${w.id}/deliveries`, { limit: 50 });
      const rows = page.items.map((d) => {
        const [text, kind] = DELIVERY[d.status] || [d.status, ''];
        return h('tr', { dataset: { deliveryId: d.id, status: d.status } },
          h('td', null, fmtTime(d.created_at)),
          h('td', null, EVENT_TYPES[d.event_type] || d.event_type, d.resend_of && h('span', { class: 'muted small' }, '（重发）')),
          h('td', null, badge(text, kind)),
          h('td', null, String(d.attempts)),
          h('td', null, d.last_status_code ?? '—', d.last_error && h('div', { class: 'muted small' }, d.last_error)),
          h('td', null, d.delivered_at ? fmtTime(d.delivered_at) : (d.next_attempt_at ? `下次 ${fmtTime(d.next_attempt_at)}` : '—')),
          h('td', null, d.status !== 'pending' && w.status === 'active' && h('button', { class: 'btn btn-small', type: 'button', dataset: { action: 'resend' }, onclick: (e) => busy(e.currentTarget, async () => {
            await api.post(`${base}/webhooks/${w.id}/deliveries/${d.id}/resend`);
            toast('已重新排队发送', 'ok');
            loadLog();
            setTimeout(() => { if (st.selected === w.id) loadLog(); }, 1500);
          }) }, '重发')));
      });
      mount(log,
        h('div', { class: 'card-head' }, h('h2', null, '投递记录'),
          h('span', { class: 'actions' }, h('code', { class: 'small' }, w.url),
            h('button', { class: 'btn btn-small', type: 'button', id: 'log-refresh', onclick: (e) => busy(e.currentTarget, loadLog) }, '刷新'))),
        rows.length
          ? h('div', { class: 'table-scroll' }, h('table', { class: 'data-table', id: 'deliveries' },
            h('thead', null, h('tr', null, h('th', null, '时间'), h('th', null, '事件'), h('th', null, '状态'), h('th', null, '尝试次数'), h('th', null, '响应码'), h('th', null, '送达/下次'), h('th', null, ''))),
            h('tbody', null, rows)))
          : empty('暂无投递。'));
    } catch (e) {
      mount(log, errorBox(e, loadLog));
    }
  }

  loadClient().then(loadHooks);
  loadUsage();
  return { el };
}
