// DOM helpers, Chinese labels and formatting shared by every view. Views
// build nodes with `h` (text is always set as text, never parsed as HTML).

import { errorText } from './api.js';

/** Creates an element: h('button', {class: 'x', onclick: f}, 'text', child…). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with the same conventions as `h`. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected' || k === 'disabled') {
      el[k] = !!v;
      if (v) el.setAttribute(k, '');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Text with the server's `<em>` highlights (already HTML-escaped): only the
 * emphasis survives, everything else stays text.
 */
export function highlighted(html) {
  const tpl = document.createElement('template');
  tpl.innerHTML = html || '';
  const out = document.createDocumentFragment();
  for (const node of tpl.content.childNodes) {
    if (node.nodeName === 'EM') out.append(h('mark', null, node.textContent));
    else out.append(document.createTextNode(node.textContent));
  }
  return out;
}

// ------------------------------------------------------------------ labels

export const KIND = {
  space: '厂房仓储',
  equipment: '设备机时',
  material: '物料',
  logistics: '物流运力',
  workforce: '共享用工',
  service: '检测服务',
};
export const SIDE = { offer: '供给', request: '需求' };
export const URGENCY = { normal: '普通', urgent: '加急', emergency: '紧急' };
export const CASE_STATUS = { open: '待认领', claimed: '处理中', brokered: '已撮合', resolved: '已结案' };
export const OUTCOME = { solved: '已解决', partly: '部分解决', not_solved: '未解决' };
export const MATCH_STATUS = {
  suggested: '推荐',
  contacted: '已联系',
  agreed: '已达成',
  declined: '已婉拒',
  expired: '已失效',
};
export const SLA_STEP = { claim: '认领', contact: '首次对接', resolve: '结案' };
export const FACTOR = {
  text_relevance: '文本相关',
  kind_fit: '类别匹配',
  spec_fit: '规格匹配',
  quantity: '数量覆盖',
  price: '价格预算',
  time: '时间重叠',
  available_now: '即时可用',
  distance: '距离',
  community: '同社区',
  verified: '企业认证',
  freshness: '新鲜度',
};
export const AUDIT_ACTION = {
  'case.claimed': '认领工单',
  'case.taken_over': '接手工单',
  'case.brokered': '撮合对接',
  'case.resolved': '结案',
  'case.escalated': '升级转派',
  'thread.joined': '加入会话',
  'firm.verified': '认证企业',
  'listing.posted_for_firm': '代企业发布',
  'listing.edited_for_firm': '代企业修改',
  'listing.closed_for_firm': '代企业关闭',
  'listing.taken_over': '企业接管代发信息',
  'case.requested_by_firm': '企业请求协助',
  'case.opened_by_staff': '转为工单',
  'account.reset_code_issued': '发放重置码',
  'firm.member_removed': '企业移除成员',
  'firm.admin_handed_over': '移交企业管理员',
  'firm.profile_changed': '企业资料变更',
  'moderation.hide_listing': '隐藏信息',
  'moderation.remove_message': '删除消息',
  'moderation.warn_firm': '警告企业',
  'moderation.suspend_firm': '暂停企业',
  'moderation.lift_suspension': '恢复企业',
  'moderation.unverify_firm': '撤销企业认证',
  'moderation.dismiss': '驳回举报',
  'import.firms': '表格导入企业',
  'import.listings': '表格导入供需',
  'client.created': '创建接口客户端',
  'client.secret_rotated': '轮换客户端密钥',
  'client.revoked': '吊销接口客户端',
  'webhook.created': '代建 webhook 订阅',
  'webhook.disabled': '停用 webhook',
  'webhook.enabled': '启用 webhook',
  'webhook.deleted': '删除 webhook',
  'webhook.test_sent': 'webhook 测试推送',
  'webhook.delivery_resent': '重发 webhook 投递',
  'agreement.proposed_for_requester': '代需求方提出成交',
  'rating.comment_hidden': '隐藏评价评论',
  'staff.invited': '邀请工作人员',
  'staff.disabled': '停用工作人员',
  'staff.enabled': '启用工作人员',
  'district.community_added': '社区划入区域',
  'district.community_removed': '社区移出区域',
  'district.admin_added': '新增区域管理员',
  'district.admin_removed': '移除区域管理员',
  'vocabulary.added': '添加词库词条',
  'vocabulary.removed': '删除词库词条',
  'vocabulary.undone': '撤销词库变更',
};
export const ATTRIBUTE = {
  area_m2: '面积（㎡）',
  ceiling_height_m: '层高（米）',
  floor_load_t_per_m2: '楼面荷载（吨/㎡）',
  power_kva: '电力容量（kVA）',
  crane_t: '行车（吨）',
  floor: '楼层',
  usage: '用途',
  fire_class: '防火等级',
  equipment_type: '设备类型',
  brand: '品牌',
  model: '型号',
  mode: '方式',
  clamping_force_t: '锁模力（吨）',
  travel_mm: '行程（毫米）',
  tonnage_t: '吨位（吨）',
  material_name: '物料名称',
  grade: '牌号/等级',
  packaging: '包装',
  origin: '起点',
  destination: '终点',
  vehicle_type: '车型',
  capacity_t: '载重（吨）',
  volume_m3: '容积（m³）',
  departure_date: '发车日期',
  cold_chain: '冷链',
  hazmat: '危险品',
  job_type: '工种',
  headcount: '人数',
  skills: '技能',
  period_days: '周期（天）',
  service_type: '服务类型',
  certification: '资质认证',
};

/** An attribute value as text: lists joined, yes/no in Chinese. */
export function attrValue(v) {
  if (Array.isArray(v)) return v.join('、');
  if (v === true) return '是';
  if (v === false) return '否';
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export const NOTIFICATION = {
  'match.suggested': '匹配推荐',
  message: '新消息',
  brokered: '撮合对接',
  'firm.verified': '企业认证',
  'case.opened': '新工单',
  'case.overdue': '工单超时',
  'listing.staff_action': '社区代办',
  'listing.taken_over': '企业接管',
  'firm.reverify': '企业需重新认证',
  'report.filed': '新的举报',
  moderation: '社区处理',
  'quote.created': '新报价',
  'quote.updated': '报价更新',
  'agreement.proposed': '成交待确认',
  'agreement.confirmed': '成交已确认',
  'agreement.completed': '成交已履约',
  'agreement.cancelled': '成交已取消',
  'rating.published': '评价已公开',
};

export const QUOTE_STATUS = { submitted: '待决定', accepted: '已接受', declined: '已拒绝', withdrawn: '已撤回' };
export const AGREEMENT_STATUS = {
  proposed: '待确认',
  confirmed: '已确认',
  in_progress: '履约中',
  completed: '已完成',
  cancelled: '已取消',
};

export function label(map, key) {
  return map[key] || key || '—';
}

// -------------------------------------------------------------- formatting

const pad = (n) => String(n).padStart(2, '0');

/** 11-21 09:05 (this year) or 2025-11-21 09:05. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const md = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getFullYear() === new Date().getFullYear() ? md : `${d.getFullYear()}-${md}`;
}

/** 45秒, 12分, 3小时5分, 2天4小时. */
export function fmtDuration(secs) {
  if (secs === null || secs === undefined || Number.isNaN(secs)) return '—';
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s}秒`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}分`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return m % 60 ? `${hr}小时${m % 60}分` : `${hr}小时`;
  const d = Math.floor(hr / 24);
  return hr % 24 ? `${d}天${hr % 24}小时` : `${d}天`;
}

export function fmtAgo(iso) {
  if (!iso) return '—';
  const secs = (Date.now() - new Date(iso).getTime()) / 1000;
  if (secs < 30) return '刚刚';
  return `${fmtDuration(secs)}前`;
}

export function fmtPct(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—';
  return `${(rate * 100).toFixed(rate >= 0.995 || rate === 0 ? 0 : 1)}%`;
}

/** ¥12,345.60 (yuan). */
export function fmtYuan(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return `¥${Number(v).toLocaleString('zh-CN', { minimumFractionDigits: 0, maximumFractionDigits: 2 })}`;
}

export function fmtAmount(a) {
  if (!a) return '—';
  return `${a.amount} ${a.unit}`;
}

export function fmtScore(score) {
  return score === null || score === undefined ? '—' : Math.round(score * 100).toString();
}

export function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The day `d` falls on in China Standard Time (the service's days), whatever the browser's zone. */
export function cstDate(d) {
  const t = new Date(d.getTime() + 8 * 3_600_000);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

// ------------------------------------------------------------------ pieces

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}` }, message);
  box.append(el);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

export function toastError(err) {
  toast(errorText(err), 'error');
}

export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

export function urgencyBadge(u) {
  return badge(label(URGENCY, u), `u-${u}`);
}

export function statusBadge(st) {
  return badge(label(CASE_STATUS, st), `s-${st}`);
}

/** An inline alert showing an error where the content would be. */
export function errorBox(err, retry) {
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert' },
    h('span', null, errorText(err)),
    retry && h('button', { class: 'btn btn-small', type: 'button', onclick: retry }, '重试'),
  );
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/** Runs `action` with the button disabled; shows failures as a toast. */
export async function busy(button, action) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.classList.add('is-busy');
  try {
    return await action();
  } catch (e) {
    toastError(e);
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove('is-busy');
  }
}

/** A modal dialog (native <dialog>); resolves when it closes. */
export function dialog(title, body, actions) {
  const dlg = h('dialog', { class: 'dialog' });
  const close = () => dlg.close();
  mount(
    dlg,
    h('form', { method: 'dialog', class: 'dialog-body', onsubmit: (e) => e.preventDefault() },
      h('h2', null, title),
      body,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: close }, '取消'),
        actions(close))),
  );
  document.body.append(dlg);
  dlg.addEventListener('close', () => dlg.remove());
  dlg.showModal();
  return dlg;
}

/** Debounces `fn` by `ms`. */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
