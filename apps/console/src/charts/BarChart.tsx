import { useId, useState } from 'react';
import { BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, Tooltip, type ChartOptions } from 'chart.js';
import { Bar } from 'react-chartjs-2';
import { coloursFor, cssColour } from './palette';
import { total, type ChartData } from './stats-series';

// Only what bar charts need (react-chartjs-2's Bar registers the bar controller itself).
ChartJS.register(BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface BarChartProps {
  title: string;
  /** One sentence that says what the chart shows in numbers: the canvas's accessible name and the figure's summary. */
  summary: string;
  data: ChartData;
  /** The heading of the label column in the table (e.g. "Day", "Rule"). */
  labelHeading: string;
  stacked?: boolean;
  horizontal?: boolean;
  /** Rows whose values are all 0 are left out of the table (e.g. days without any grant). */
  skipEmptyRows?: boolean;
  /** Said instead of the chart when every value is 0. */
  empty: string;
  /** More under the chart (a list, a note). */
  children?: React.ReactNode;
}

/**
 * A bar chart with its text alternative: a toggle shows the same numbers as a table (with row
 * and column headers and totals), and the canvas carries the summary as its accessible name.
 * Chart.js draws on a canvas and sets sizes through the DOM, so no inline script or style
 * attribute is needed (the console's CSP allows neither).
 */
export function BarChart({ title, summary, data, labelHeading, stacked = false, horizontal = false, skipEmptyRows = false, empty, children }: BarChartProps) {
  const id = useId();
  const [asTable, setAsTable] = useState(false);
  const colours = coloursFor(data.series.map((s) => s.label));
  const nothing = total(data) === 0;
  const text = cssColour('--text', '#1b1f24');
  const grid = cssColour('--border', '#d5d9e0');
  const options: ChartOptions<'bar'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: horizontal ? 'y' : 'x',
    plugins: {
      legend: { display: data.series.length > 1, position: 'bottom', labels: { color: text, boxWidth: 14 } },
      tooltip: { mode: 'index', intersect: false },
    },
    // Counts: the value axis (x when the bars lie down) has whole-number ticks from 0.
    scales: {
      x: { stacked, ticks: { color: text, autoSkip: true, maxRotation: 0, ...(horizontal && { precision: 0 }) }, grid: { color: grid }, beginAtZero: true },
      y: { stacked, ticks: { color: text, autoSkip: true, ...(!horizontal && { precision: 0 }) }, grid: { color: grid }, beginAtZero: true },
    },
  };
  const rows = data.labels
    .map((label, i) => ({ label, values: data.series.map((s) => s.values[i]) }))
    .filter((r) => !skipEmptyRows || r.values.some((v) => v > 0));

  return (
    <figure className="chart card" aria-labelledby={`${id}-title`}>
      <div className="chart-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {!nothing && (
          <button type="button" className="btn btn-small" aria-pressed={asTable} aria-controls={`${id}-body`} onClick={() => setAsTable((t) => !t)}>
            {asTable ? 'Show chart' : 'Show table'}
          </button>
        )}
      </div>
      <figcaption className="muted">{nothing ? empty : summary}</figcaption>
      <div id={`${id}-body`}>
        {!nothing && !asTable && (
          <div className={horizontal ? 'chart-canvas chart-canvas-horizontal' : 'chart-canvas'}>
            <Bar
              role="img"
              aria-label={`${title}: ${summary}`}
              options={options}
              data={{
                labels: data.labels,
                datasets: data.series.map((s, i) => ({ label: s.label, data: s.values, backgroundColor: colours[i], borderWidth: 0 })),
              }}
              fallbackContent={<p>{summary}</p>}
            />
          </div>
        )}
        {!nothing && asTable && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">{labelHeading}</th>
                  {data.series.map((s) => (
                    <th scope="col" key={s.label} className="num">
                      {s.label}
                    </th>
                  ))}
                  {data.series.length > 1 && (
                    <th scope="col" className="num">
                      Total
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.label}>
                    <th scope="row">{r.label}</th>
                    {r.values.map((v, i) => (
                      <td key={data.series[i].label} className="num">
                        {v.toLocaleString()}
                      </td>
                    ))}
                    {data.series.length > 1 && <td className="num">{r.values.reduce((a, b) => a + b, 0).toLocaleString()}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {children}
    </figure>
  );
}
