/** The time-series chart: uPlot (bundled, MIT), visitors and page views per bucket of the range. */
import uPlot from 'uplot';

export interface Series {
  /** Axis labels, one per bucket, already formatted. */
  labels: string[];
  /** What a bucket is (Hour, Day, Month), for the legend. */
  bucket: string;
  visitors: number[];
  pageviews: number[];
}

const HEIGHT = 240;

export class Chart {
  private plot: uPlot | undefined;
  private readonly resize: ResizeObserver;

  constructor(private readonly box: HTMLElement) {
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
    });
    this.resize.observe(box);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.box.clientWidth));
  }

  show(series: Series): void {
    this.plot?.destroy();
    const xs = series.labels.map((_, i) => i);
    const labels = series.labels;
    const compact = this.width() < 500;
    const options: uPlot.Options = {
      width: this.width(),
      height: HEIGHT,
      scales: {
        x: { time: false, range: (_u, min, max) => [min, Math.max(max, min + 1)] },
        y: { range: (_u, _min, max) => [0, max > 0 ? Math.ceil(max * 1.1) : 1] },
      },
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: series.bucket, value: (_u, v) => (v === null ? '–' : (labels[v] ?? '')) },
        { label: 'Visitors', stroke: '#1d4ed8', fill: 'rgba(29, 78, 216, 0.12)', width: 2 },
        { label: 'Page views', stroke: '#11703a', width: 2, dash: [6, 4] },
      ],
      axes: [
        {
          space: compact ? 56 : 70,
          incrs: [1, 2, 3, 4, 6, 7, 12, 14, 24, 28, 30, 48, 60, 90, 120],
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? (labels[v] ?? '') : '')),
          grid: { show: false },
        },
        {
          size: compact ? 40 : 50,
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000],
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
        },
      ],
    };
    this.plot = new uPlot(options, [xs, series.visitors, series.pageviews], this.box);
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }
}
