import { BarChart } from '../charts/BarChart';
import type { ChartData } from '../charts/stats-series';
import type { DiscoverySummary } from './discovery-bits';

/** Per cloud: standing privileged assignments, those unused for the threshold, and humans against workloads. */
export function summarySeries(summary: DiscoverySummary): ChartData {
  return {
    labels: summary.clouds.map((c) => c.cloud.toUpperCase()),
    series: [
      { label: 'privileged', values: summary.clouds.map((c) => c.privileged) },
      { label: `unused ≥ ${summary.unusedDays} days`, values: summary.clouds.map((c) => c.privilegedUnused) },
      { label: 'humans', values: summary.clouds.map((c) => c.privilegedHumans) },
      { label: 'workloads', values: summary.clouds.map((c) => c.privilegedWorkloads) },
    ],
  };
}

export function DiscoverySummaryChart({ summary }: { summary: DiscoverySummary }) {
  const data = summarySeries(summary);
  const sentence = summary.clouds
    .map((c) => `${c.cloud.toUpperCase()}: ${c.privileged} privileged, ${c.privilegedUnused} of them unused for ${summary.unusedDays} days or more, ${c.privilegedHumans} humans and ${c.privilegedWorkloads} workloads`)
    .join('; ');
  return (
    <div className="charts">
      <div className="chart-wide">
        <BarChart title="Standing privileged access by cloud" summary={`${sentence}.`} data={data} labelHeading="Cloud" empty="No standing privileged access was found." />
      </div>
    </div>
  );
}
