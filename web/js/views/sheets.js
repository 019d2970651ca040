// Spreadsheets (表格导入导出): staff check a CSV or .xlsx of firms or
// listings (the dry run lists every row's result and each error by row and
// column), import it as a job whose progress is polled, download the
// templates, and export the community's data as .xlsx or CSV.

import { api, errorText } from '../api.js';
import { h, mount, errorBox, busy, toast, badge } from '../ui.js';

const KINDS = { firms: '企业', listings: '供需信息' };
const ACTION = { create: '新增', update: '更新', unchanged: '无变化', error: '有错误' };
const ACTION_BADGE = { create: 'ok', update: 'staff', unchanged: '', error: 'over' };
const EXPORTS = { listings: '供需信息', firms: '企业', cases: '工单', stats: '统计' };

/** Saves a download from the API under `name`. */
async function save(path, query, name) {
  const resp = await api.fetchRaw('GET', path, { query });
  const blob = await resp.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function sheetsView() {
  const st = { kind: 'firms', file: null, run: null, polling: null };
  const kind = h('select', { id: 'sheet-kind', 'aria-label': '导入内容', onchange: () => { st.kind = kind.value; reset(); } },
    Object.entries(KINDS).map(([v, t]) => h('option', { value: v }, t)));
  const file = h('input', { type: 'file', id: 'sheet-file', accept: '.xlsx,.csv,text/csv', 'aria-label': '选择表格文件',
    onchange: () => { st.file = file.files[0] || null; reset(); } });
  const check = h('button', { class: 'btn btn-primary', type: 'button', id: 'sheet-check', onclick: (e) => busy(e.currentTarget, dryRun) }, '检查（不写入）');
  const importBtn = h('button', { class: 'btn btn-primary', type: 'button', id: 'sheet-import', hidden: true, onclick: (e) => busy(e.currentTarget, startImport) }, '导入');
  const templates = h('span', { class: 'actions' },
    h('button', { class: 'btn btn-small', type: 'button', dataset: { template: 'xlsx' }, onclick: (e) => busy(e.currentTarget, () => template('xlsx')) }, '下载模板 .xlsx'),
    h('button', { class: 'btn btn-small', type: 'button', dataset: { template: 'csv' }, onclick: (e) => busy(e.currentTarget, () => template('csv')) }, '下载模板 .csv'));
  const summary = h('div', { id: 'sheet-summary' });
  const table = h('div', { id: 'sheet-rows', class: 'table-scroll' });
  const job = h('div', { id: 'sheet-job' });

  const exportsCard = h('div', { class: 'card', id: 'sheet-exports' },
    h('h2', null, '导出本社区数据'),
    h('p', { class: 'muted' }, '供需信息和企业的导出文件可修改后直接导入（按编号、统一社会信用代码更新）。统计为最近 30 天。'),
    h('div', { class: 'toolbar' }, Object.entries(EXPORTS).map(([what, t]) => h('span', { class: 'actions' },
      h('strong', null, t),
      ['xlsx', 'csv'].map((fmt) => h('button', { class: 'btn btn-small', type: 'button', dataset: { export: `${what}.${fmt}` },
        onclick: (e) => busy(e.currentTarget, () => save(`/api/v1/staff/exports/${what}`, { format: fmt }, `${t}.${fmt}`)) }, `.${fmt}`))))));

  const el = h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, '表格导入导出')),
    h('div', { class: 'card', id: 'sheet-import-card' },
      h('h2', null, '从表格导入'),
      h('p', { class: 'muted' }, '上传 .xlsx 或 .csv（最多 5 MB、5000 行），第一行为中文列名。先检查：逐行显示将新增、更新还是有错误，确认无误后再导入。再次导入同一文件不会重复。'),
      h('div', { class: 'toolbar' }, h('label', null, '导入内容', kind), h('label', null, '文件', file), check, importBtn, templates),
      summary, table, job),
    exportsCard);

  function reset() {
    st.run = null;
    importBtn.hidden = true;
    mount(summary);
    mount(table);
    mount(job);
  }

  async function template(fmt) {
    await save(`/api/v1/staff/imports/${st.kind}/template`, { format: fmt }, `${KINDS[st.kind]}导入模板.${fmt}`);
  }

  function needFile() {
    if (st.file) return true;
    toast('请先选择要导入的表格文件', 'error');
    return false;
  }

  async function dryRun() {
    if (!needFile()) return;
    reset();
    try {
      const run = await api.upload(`/api/v1/staff/imports/${st.kind}/dry-run`, st.file, { file_name: st.file.name });
      st.run = run;
      render(run);
    } catch (e) {
      mount(summary, fileProblem(e));
    }
  }

  /** A refused file: the problem, and each column or file problem. */
  function fileProblem(e) {
    return h('div', { class: 'alert alert-error', role: 'alert', id: 'sheet-problem' },
      h('div', null, h('strong', null, e.detail || errorText(e)),
        e.errors?.length ? h('ul', null, e.errors.map((x) => h('li', null, x.message))) : null));
  }

  function render(run) {
    const c = run.counts;
    mount(summary,
      h('div', { class: 'counts', id: 'sheet-counts' },
        h('span', { class: 'count-pill' }, `共 ${run.total_rows} 行`),
        h('span', { class: 'count-pill' }, `新增 ${c.create}`),
        h('span', { class: 'count-pill' }, `更新 ${c.update}`),
        h('span', { class: 'count-pill' }, `无变化 ${c.unchanged}`),
        h('span', { class: `count-pill${c.error ? ' is-over' : ''}`, id: 'sheet-error-count' }, `有错误 ${c.error}`)),
      run.ignored_columns.length ? h('p', { class: 'muted small' }, `未识别的列（不导入）：${run.ignored_columns.join('、')}`) : null);
    const cols = run.columns;
    const rows = run.rows.slice(0, 1000);
    mount(table, h('table', { class: 'data-table sheet-table' },
      h('thead', null, h('tr', null, h('th', null, '行'), h('th', null, '结果'), h('th', null, run.kind === 'firms' ? '统一社会信用代码' : '编号'),
        h('th', null, run.kind === 'firms' ? '企业名称' : '标题'), h('th', null, '问题'))),
      h('tbody', null, rows.map((r) => h('tr', { class: r.errors.length ? 'row-error' : '', dataset: { row: String(r.row), action: r.action } },
        h('td', { class: 'nowrap' }, String(r.row)),
        h('td', null, badge(ACTION[r.action] || r.action, ACTION_BADGE[r.action] || '')),
        h('td', null, r.key || '—'),
        h('td', null, r.label || '—'),
        h('td', null, r.errors.length
          ? h('ul', { class: 'cell-errors' }, r.errors.map((e) => h('li', { dataset: { column: e.column } },
            h('span', { class: `col-name${cols.includes(e.column) ? '' : ' is-missing'}` }, e.column), `：${e.message}`)))
          : '')))),
    ), run.rows.length > rows.length ? h('p', { class: 'muted small' }, `仅显示前 ${rows.length} 行。`) : null);
    const writes = c.create + c.update;
    importBtn.hidden = writes === 0;
    importBtn.textContent = c.error ? `仅导入无误的 ${writes} 行` : `导入 ${writes} 行`;
    importBtn.dataset.skip = c.error ? 'true' : 'false';
  }

  async function startImport() {
    if (!needFile() || !st.run) return;
    const skip = importBtn.dataset.skip === 'true';
    try {
      const j = await api.upload(`/api/v1/staff/imports/${st.kind}`, st.file, { file_name: st.file.name, skip_invalid: skip || undefined });
      importBtn.hidden = true;
      follow(j);
    } catch (e) {
      mount(job, fileProblem(e));
    }
  }

  function follow(j) {
    showJob(j);
    clearTimeout(st.polling);
    if (j.status !== 'running') {
      toast(`导入完成：新增 ${j.created}，更新 ${j.updated}，无变化 ${j.unchanged}，失败 ${j.failed}`, j.failed ? 'error' : 'ok');
      return;
    }
    st.polling = setTimeout(async () => {
      try {
        follow(await api.get(`/api/v1/staff/import-jobs/${j.id}`));
      } catch (e) {
        mount(job, errorBox(e, () => follow(j)));
      }
    }, 500);
  }

  function showJob(j) {
    const STATUS = { running: '导入中', done: '已完成', failed: '失败', interrupted: '已中断，请重新导入' };
    mount(job, h('div', { class: 'card', id: 'sheet-job-card', dataset: { status: j.status } },
      h('div', { class: 'card-head' }, h('h2', null, `导入任务 · ${STATUS[j.status] || j.status}`),
        h('span', { class: 'muted small' }, j.file_name)),
      h('progress', { max: String(Math.max(j.total_rows, 1)), value: String(j.processed_rows), id: 'sheet-progress' }),
      h('p', { id: 'sheet-job-counts' }, `已处理 ${j.processed_rows} / ${j.total_rows} 行 · 新增 ${j.created} · 更新 ${j.updated} · 无变化 ${j.unchanged} · 失败 ${j.failed}`),
      j.errors.length ? h('ul', { class: 'cell-errors' }, j.errors.slice(0, 100).map((e) => h('li', null, `第 ${e.row} 行 ${e.column}：${e.message}`))) : null));
  }

  return { el, destroy: () => clearTimeout(st.polling) };
}
