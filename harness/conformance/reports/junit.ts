import type { SuiteReport } from '../types.ts';
import { traceLines } from './console.ts';

/**
 * JUnit XML for CI (the schema Jenkins, GitLab and GitHub test reporters read): one `<testcase>` per case;
 * fail → `<failure>` with the trace; non-strict and info → pass with the verdict and trace in `<system-out>`;
 * unimplemented and skipped → `<skipped>`.
 */
export function junitXml(report: SuiteReport): string {
  const name = `meterlab conform ${report.role} ${report.protocol} ${report.target}`;
  const failures = report.counts.fail;
  const skipped = report.counts.unimplemented + report.counts.skipped;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${esc(name)}" tests="${report.results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(report.durationMs)}">`,
  );
  out.push(
    `  <testsuite name="${esc(name)}" tests="${report.results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(report.durationMs)}" timestamp="${esc(report.startedAt)}">`,
  );
  out.push('    <properties>');
  out.push(`      <property name="role" value="${esc(report.role)}"/>`);
  out.push(`      <property name="protocol" value="${esc(report.protocol)}"/>`);
  out.push(`      <property name="target" value="${esc(report.target)}"/>`);
  if (report.device) out.push(`      <property name="device" value="${esc(report.device)}"/>`);
  out.push('    </properties>');
  for (const r of report.results) {
    const open = `    <testcase classname="${esc(`${report.role}.${report.protocol}`)}" name="${esc(`${r.id} ${r.title}`)}" time="${seconds(r.durationMs)}">`;
    const trace = esc(
      [`clause: ${r.clause}`, ...(r.reason ? [`why: ${r.reason}`] : []), ...traceLines(r, true)].join('\n'),
    );
    out.push(open);
    switch (r.grade) {
      case 'fail':
        out.push(`      <failure message="${esc(r.message)}" type="fail">${trace}</failure>`);
        break;
      case 'unimplemented':
      case 'skipped':
        out.push(`      <skipped message="${esc(`${r.grade}: ${r.message}`)}"/>`);
        out.push(`      <system-out>${trace}</system-out>`);
        break;
      default:
        out.push(`      <system-out>${esc(`${r.grade}: ${r.message}`)}\n${trace}</system-out>`);
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry. */
export function esc(text: string): string {
  return text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
