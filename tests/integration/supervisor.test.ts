import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { isHealthy } from "../../src-main/host/supervisor";
import { alive, newSupervisor, root, waitFor } from "./helpers";

describe("HostSupervisor against the real host", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("starts the host, which answers /healthz only with the token", async () => {
    const supervisor = newSupervisor();
    cleanups.push(() => supervisor.stop());
    const endpoint = await supervisor.start();
    expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await isHealthy(endpoint)).toBe(true);
    expect(await isHealthy({ url: endpoint.url, token: "wrong-token-of-some-length" })).toBe(false);
  });

  it("restarts a host that was killed, on a new process", async () => {
    const supervisor = newSupervisor();
    cleanups.push(() => supervisor.stop());
    const phases: string[] = [];
    supervisor.on("state", (state) => phases.push(state.phase));
    const first = await supervisor.start();
    process.kill(first.pid, "SIGKILL");
    await waitFor("restart", () => supervisor.state.phase === "restarting");
    const second = await supervisor.whenReady();
    expect(second.pid).not.toBe(first.pid);
    expect(alive(first.pid)).toBe(false);
    expect(await isHealthy(second)).toBe(true);
    expect(phases).toEqual(["starting", "ready", "restarting", "starting", "ready"]);
  });

  it("stops cleanly and leaves no process behind", async () => {
    const supervisor = newSupervisor();
    const endpoint = await supervisor.start();
    await supervisor.stop();
    expect(supervisor.state.phase).toBe("stopped");
    expect(alive(endpoint.pid)).toBe(false);
    expect(await isHealthy(endpoint)).toBe(false);
  });

  it("leaves no orphan when the app process is killed outright", async () => {
    // A separate Node process runs the supervisor; SIGKILL gives it no chance to clean up.
    const script = `
      import { newSupervisor } from "./tests/integration/helpers.ts";
      const endpoint = await newSupervisor().start();
      console.log(JSON.stringify({ pid: endpoint.pid }));
      setInterval(() => {}, 1000);
    `;
    const app = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve) => createInterface({ input: app.stdout }).once("line", resolve));
    const hostPid = (JSON.parse(line) as { pid: number }).pid;
    expect(alive(hostPid)).toBe(true);
    app.kill("SIGKILL");
    await waitFor("the host to exit after its app died", () => !alive(hostPid), 10_000);
  });

  it("gives up after repeated failed starts and says why", async () => {
    const supervisor = newSupervisor({ python: process.execPath, maxFailedStarts: 2, backoffInitialMs: 10 });
    cleanups.push(() => supervisor.stop());
    void supervisor.start();
    const failed = await waitFor("failed state", () =>
      supervisor.state.phase === "failed" ? supervisor.state : undefined,
    );
    expect(failed.reason).toMatch(/gave up after 2 restarts/);
  });
});
