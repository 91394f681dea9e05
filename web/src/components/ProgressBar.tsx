/** An accessible progress bar; `percent` null renders an indeterminate track. */
export function ProgressBar({
  percent,
  label,
  tone = 'active',
}: {
  percent: number | null;
  label: string;
  tone?: 'active' | 'completed' | 'failed' | 'attention';
}) {
  const value = percent === null ? null : Math.max(0, Math.min(100, percent));
  return (
    <div
      className={`progress tone-${tone}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value ?? undefined}
      aria-valuetext={value === null ? 'unknown' : `${Math.round(value)} %`}
    >
      <div
        className={value === null ? 'progress-fill unknown' : 'progress-fill'}
        style={{ width: value === null ? '100%' : `${value}%` }}
      />
    </div>
  );
}
