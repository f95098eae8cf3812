// What the model writes now: the newest greedy sample the ranks took at an evaluation, the
// prompt (from the validation data) in bold and the model's continuation after it.
import type { RunDetail } from './api';

export function renderSample(host: HTMLElement, d: RunDetail): void {
  const s = d.samples[0];
  if (!s) {
    host.textContent = 'No evaluation yet.';
    return;
  }
  const head = document.createElement('span');
  head.className = 'sample-step';
  head.textContent = `step ${s.step}: `;
  const prompt = document.createElement('b');
  prompt.textContent = s.prompt;
  host.dataset.step = String(s.step);
  host.replaceChildren(head, prompt, document.createTextNode(s.text));
}
