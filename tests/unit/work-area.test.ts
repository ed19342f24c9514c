import { describe, expect, it } from "vitest";
import {
  parseWorkAreas,
  type WorkAreaSource,
  withWorkAreas,
  workAreaOf,
  workAreasFromElectron,
  x11WorkAreaSource,
} from "../../src-main/capture/work-area";
import type { DisplayInfo } from "../../src-shared/bridge-api";

const left: DisplayInfo = {
  id: "a",
  name: "A",
  bounds: { x: 0, y: 0, width: 1920, height: 1080 },
  primary: true,
  scaleFactor: 1,
};
const right: DisplayInfo = {
  id: "b",
  name: "B",
  bounds: { x: 1920, y: 0, width: 1920, height: 1080 },
  primary: false,
  scaleFactor: 1,
};

describe("parseWorkAreas (xprop -root -notype)", () => {
  it("takes the current desktop's rectangle", () => {
    const net = "_NET_CURRENT_DESKTOP = 1\n_NET_WORKAREA = 0, 0, 3840, 1080, 0, 32, 3840, 1048\n";
    expect(parseWorkAreas(net)).toEqual({ screen: { x: 0, y: 32, width: 3840, height: 1048 } });
  });

  it("reads desktop 0 where no current desktop is published, and per-monitor rectangles where they are", () => {
    const net = "_NET_CURRENT_DESKTOP:  no such atom on any window.\n_NET_WORKAREA = 0, 27, 3840, 1053\n";
    const gtk = "_GTK_WORKAREAS_D0 = 1920, 0, 1920, 1080, 0, 27, 1920, 1053\n";
    expect(parseWorkAreas(net, gtk)).toEqual({
      screen: { x: 0, y: 27, width: 3840, height: 1053 },
      perMonitor: [
        { x: 1920, y: 0, width: 1920, height: 1080 },
        { x: 0, y: 27, width: 1920, height: 1053 },
      ],
    });
  });

  it("says nothing where nothing is published or the answer is not numbers", () => {
    expect(parseWorkAreas("_NET_WORKAREA:  not found.\n")).toEqual({});
    expect(parseWorkAreas("_NET_WORKAREA = garbage\n")).toEqual({});
  });
});

describe("workAreaOf", () => {
  it("prefers the display's own rectangle, else cuts the screen-wide one to the display", () => {
    const published = parseWorkAreas(
      "_NET_WORKAREA = 0, 27, 3840, 1053\n",
      "_GTK_WORKAREAS_D0 = 1920, 0, 1920, 1080, 0, 27, 1920, 1053\n",
    );
    expect(workAreaOf(left.bounds, published)).toEqual({ x: 0, y: 27, width: 1920, height: 1053 });
    expect(workAreaOf(right.bounds, published)).toEqual({ x: 1920, y: 0, width: 1920, height: 1080 });
    expect(workAreaOf(right.bounds, { screen: { x: 0, y: 27, width: 3840, height: 1053 } })).toEqual({
      x: 1920,
      y: 27,
      width: 1920,
      height: 1053,
    });
    expect(workAreaOf(right.bounds, { screen: { x: 0, y: 0, width: 1920, height: 1080 } })).toBeUndefined();
  });
});

describe("withWorkAreas", () => {
  it("falls back to the bounds where the source knows nothing or fails", async () => {
    const half: WorkAreaSource = async () => [{ x: 0, y: 40, width: 1920, height: 1040 }];
    const [a, b] = await withWorkAreas([left, right], half);
    expect(a?.workArea).toEqual({ x: 0, y: 40, width: 1920, height: 1040 });
    expect(b?.workArea).toEqual(right.bounds);
    const [c] = await withWorkAreas([left], async () => {
      throw new Error("no xprop");
    });
    expect(c?.workArea).toEqual(left.bounds);
  });
});

describe("x11WorkAreaSource", () => {
  it("reads once, then answers from its cache and refreshes a stale one in the background", async () => {
    let clock = 0;
    let reads = 0;
    let release: () => void = () => {};
    const read = async () => {
      reads++;
      if (reads === 2)
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      return { screen: { x: 0, y: reads * 10, width: 1920, height: 1000 } };
    };
    const source = x11WorkAreaSource(read, 1000, () => clock);
    expect((await source([left]))[0]?.y).toBe(10);
    clock = 500;
    expect((await source([left]))[0]?.y).toBe(10);
    expect(reads).toBe(1);
    clock = 1500;
    // Stale: answered at once from the cache while the second read is still running.
    expect((await source([left]))[0]?.y).toBe(10);
    expect((await source([left]))[0]?.y).toBe(10);
    expect(reads).toBe(2);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await source([left]))[0]?.y).toBe(20);
  });

  it("treats a failing read as nothing published", async () => {
    const source = x11WorkAreaSource(async () => {
      throw new Error("xprop: unable to open display");
    });
    expect(await source([left])).toEqual([undefined]);
  });
});

describe("workAreasFromElectron", () => {
  it("pairs displays by overlap in pixels and keeps the work area's offset within the display", () => {
    const hiDpi: DisplayInfo = { ...right, bounds: { x: 1920, y: 0, width: 3840, height: 2160 }, scaleFactor: 2 };
    const areas = workAreasFromElectron(
      [left, hiDpi],
      [
        {
          bounds: { x: 960, y: 0, width: 1920, height: 1080 },
          workArea: { x: 960, y: 0, width: 1920, height: 1040 },
          scaleFactor: 2,
        },
        {
          bounds: { x: 0, y: 0, width: 1920, height: 1080 },
          workArea: { x: 0, y: 30, width: 1920, height: 1050 },
          scaleFactor: 1,
        },
      ],
    );
    expect(areas).toEqual([
      { x: 0, y: 30, width: 1920, height: 1050 },
      { x: 1920, y: 0, width: 3840, height: 2080 },
    ]);
    expect(workAreasFromElectron([left], [])).toEqual([undefined]);
  });
});
