// SLA clocks of a case: which step is running, how long is left, and a
// ticker that keeps the visible clocks current without re-fetching.

import { h, fmtDuration, SLA_STEP } from '../ui.js';

const STEPS = ['claim', 'contact', 'resolve'];

/** The step whose clock runs now (null when every step is done). */
export function currentStep(c) {
  if (!c.sla) return null;
  return STEPS.find((k) => c.sla[k] && !c.sla[k].done_at) || null;
}

function clockText(step) {
  if (step.done_at) {
    const took = (new Date(step.done_at) - new Date(step.due_at)) / 1000 + step.target_secs;
    return { text: `用时 ${fmtDuration(took)}`, over: took > step.target_secs };
  }
  const left = (new Date(step.due_at).getTime() - Date.now()) / 1000;
  if (left < 0) return { text: `已超时 ${fmtDuration(-left)}`, over: true };
  return { text: `剩余 ${fmtDuration(left)}`, over: false, soon: left < step.target_secs * 0.25 };
}

/** A span showing one step's clock; `tick()` refreshes every such span. */
export function clock(step, name) {
  const el = h('span', { class: 'clock' });
  el._step = step;
  el._name = name;
  paint(el);
  return el;
}

function paint(el) {
  const { text, over, soon } = clockText(el._step);
  el.textContent = el._name ? `${el._name} ${text}` : text;
  el.classList.toggle('is-over', !!over);
  el.classList.toggle('is-soon', !!soon && !over);
}

export function tick(root) {
  for (const el of root.querySelectorAll('.clock')) if (el._step) paint(el);
}

/** The three steps as a small table. */
export function slaTable(c) {
  if (!c.sla) return null;
  return h(
    'table',
    { class: 'sla-table' },
    h('thead', null, h('tr', null, h('th', null, '环节'), h('th', null, '时限'), h('th', null, '状态'))),
    h('tbody', null,
      STEPS.filter((k) => c.sla[k]).map((k) =>
        h('tr', { dataset: { step: k } },
          h('th', null, SLA_STEP[k]),
          h('td', null, fmtDuration(c.sla[k].target_secs)),
          h('td', null, clock(c.sla[k]))))),
  );
}
