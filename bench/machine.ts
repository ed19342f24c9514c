import { cpus, hostname, platform, release, totalmem } from "node:os";

/** Names the machine a benchmark ran on, for the JSON it writes. */
export function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    hostname: hostname(),
    platform: `${platform()} ${release()}`,
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: number[]): { median: number; p95: number; min: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), min: sorted[0] ?? Number.NaN, n: sorted.length };
}
