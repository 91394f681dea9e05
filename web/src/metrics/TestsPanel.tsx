import type { TestIteration } from '../../../src/shared/metrics.ts';
import { formatDuration } from '../lib/time.ts';

/** Passed and failed per test iteration, as stacked bars scaled to the largest run. */
export function TestsView({ iterations }: { iterations: TestIteration[] }) {
  if (iterations.length === 0) return <p className="empty">No test iterations recorded.</p>;
  const max = Math.max(
    1,
    ...iterations.map((t) => t.total ?? (t.passed ?? 0) + (t.failed ?? 0) + (t.skipped ?? 0)),
  );
  return (
    <table className="data tests">
      <caption className="sr-only">Test results per iteration</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Passed / failed</th>
          <th scope="col" className="num">
            Pass
          </th>
          <th scope="col" className="num">
            Fail
          </th>
          <th scope="col" className="num">
            Time
          </th>
        </tr>
      </thead>
      <tbody>
        {iterations.map((t) => {
          const passed = t.passed ?? 0;
          const failed = t.failed ?? 0;
          const skipped = t.skipped ?? 0;
          const known = t.passed !== null || t.failed !== null;
          return (
            <tr
              key={t.iteration}
              title={t.source}
              className={t.verdict === 'failed' || failed > 0 ? 'iteration-failed' : undefined}
              data-verdict={t.verdict ?? (known ? (failed > 0 ? 'failed' : 'passed') : 'unknown')}
            >
              <th scope="row">{t.iteration}</th>
              <td className="bars-cell">
                {known ? (
                  <span
                    className="stack"
                    role="img"
                    aria-label={`${passed} passed, ${failed} failed, ${skipped} skipped`}
                  >
                    <span className="seg pass" style={{ width: `${(passed / max) * 100}%` }} />
                    <span className="seg fail" style={{ width: `${(failed / max) * 100}%` }} />
                    <span className="seg skip" style={{ width: `${(skipped / max) * 100}%` }} />
                  </span>
                ) : (
                  <span className="muted">counts not found in {t.source}</span>
                )}
                {t.verdict === 'failed' && (
                  <div className="fail-text verdict">✕ failed{t.reason ? `: ${t.reason}` : ''}</div>
                )}
              </td>
              <td className="num pass-text">{t.passed ?? '—'}</td>
              <td className="num fail-text">{t.failed ?? '—'}</td>
              <td className="num">{formatDuration(t.durationMs)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
