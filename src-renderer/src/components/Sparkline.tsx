import { type SeriesPoint, sparklinePath } from "../format/vram";

export type SparkSeries = { key: string; label: string; points: SeriesPoint[] };

type Props = {
  /** The chart in words, for a screen reader. */
  description: string;
  series: SparkSeries[];
  /** The newest sample's time: the right edge. */
  now: number;
  windowMs: number;
};

const WIDTH = 300;
const HEIGHT = 56;

/** The last minute of one or more 0–100 % series, oldest at the left. */
export function Sparkline({ description, series, now, windowMs }: Props) {
  return (
    <figure className="sparkline" data-testid="sparkline">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={description}>
        <line
          className="spark-grid"
          x1="0"
          x2={WIDTH}
          y1={HEIGHT / 2}
          y2={HEIGHT / 2}
          vectorEffect="non-scaling-stroke"
        />
        {series.map((s) => (
          <path
            key={s.key}
            className={`spark-line spark-${s.key}`}
            d={sparklinePath(s.points, { now, windowMs, width: WIDTH, height: HEIGHT, pad: 4 })}
            vectorEffect="non-scaling-stroke"
            data-testid={`spark-${s.key}`}
          />
        ))}
      </svg>
      <figcaption>
        <span className="spark-axis">
          <span>{Math.round(windowMs / 1000)} s ago</span>
          <span>now</span>
        </span>
        <span className="spark-legend" aria-hidden="true">
          {series.map((s) => (
            <span key={s.key}>
              <span className={`spark-key spark-${s.key}`} /> {s.label}
            </span>
          ))}
        </span>
      </figcaption>
    </figure>
  );
}
