import { hostPython, projectRoot } from "../../src-main/host/python-env";
import { HostSupervisor, type SupervisorOptions } from "../../src-main/host/supervisor";

export const root = projectRoot();

export function newSupervisor(options: Partial<SupervisorOptions> = {}): HostSupervisor {
  return new HostSupervisor({ python: hostPython(root), cwd: root, backoffInitialMs: 100, log: () => {}, ...options });
}

/** True while a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
