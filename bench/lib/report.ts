/**
 * What the bench prints and, with `--write`, writes: the table of rows (every miss with why), the
 * sizing table computed from the measured CPU per webhook, and the README's benchmark block.
 */
import { MB_PER_VCPU, sizingTable } from '../../stacks/sizing';
import type { Row } from './context';

export function table(rows: readonly Row[]): string {
  const header = ['scenario', 'metric', 'value', 'target', 'pass/miss'];
  const body = rows.map((r) => [r.scenario, r.metric, `${r.value}${r.unit ? ` ${r.unit}` : ''}`, r.target ?? '', r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'MISS']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export function misses(rows: readonly Row[]): string {
  return rows
    .filter((r) => r.pass === false)
    .map((m) => `  - ${m.scenario} / ${m.metric}: ${m.value}${m.unit ? ` ${m.unit}` : ''} (target ${m.target})${m.why ? `\n      ${m.why}` : ''}`)
    .join('\n');
}

export const SIZING_MEMORIES = [128, 256, 512, 1024, 1769] as const;
export const SIZING_CONCURRENCIES = [1, 4, 8, 16, 32] as const;

/**
 * Markdown: for each memory size (rows) and concurrency (columns), the release rate of a backlog
 * and what limits it, from `cpuMsPerWebhook` and a Jenkins answering in `jenkinsMs`.
 */
export function sizingMarkdown(cpuMsPerWebhook: number, jenkinsMs: number, defaults: { memoryMb: number; concurrency: number }): string {
  const cells = sizingTable(cpuMsPerWebhook, SIZING_MEMORIES, SIZING_CONCURRENCIES, jenkinsMs);
  const head = `| memory (vCPU) | drain's CPU sustains | ${SIZING_CONCURRENCIES.map((c) => `concurrency ${c}${c === defaults.concurrency ? ' (default)' : ''}`).join(' | ')} |`;
  const rule = `| --- | --- | ${SIZING_CONCURRENCIES.map(() => '---').join(' | ')} |`;
  const jenkins = `| Jenkins at ${jenkinsMs} ms takes | | ${cells[0].map((c) => `${Math.round(c.jenkinsPerSecond)}/s`).join(' | ')} |`;
  const body = cells.map((row) => {
    const m = row[0].memoryMb;
    const label = `${m} MB (${(Math.min(1, m / MB_PER_VCPU)).toFixed(2)})${m === defaults.memoryMb ? ' (default)' : ''}`;
    const rate = `${Math.floor(row[0].drainPerSecond)}/s`;
    const text = row.map((c) => (c.limitedBy === 'drain' ? `**${Math.floor(c.releasePerSecond)}/s, drain-bound**` : `${Math.round(c.releasePerSecond)}/s (drain ${c.headroom.toFixed(1)}x)`));
    return `| ${label} | ${rate} | ${text.join(' | ')} |`;
  });
  return [head, rule, jenkins, ...body].join('\n');
}

export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';

/** Replaces the block between the markers; throws when the README has none. */
export function replaceBlock(readme: string, block: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_START} ... ${README_END} block to write the figures into`);
  return `${readme.slice(0, start + README_START.length)}\n${block.trim()}\n${readme.slice(end)}`;
}
