import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** Reads a file of the built renderer; refuses any path that climbs out of its folder. */
export async function readStatic(root: string, urlPath: string): Promise<{ body: Buffer; type: string } | undefined> {
  const relative = normalize(decodeURIComponent(urlPath === "/" ? "/index.html" : urlPath)).replace(/^([/\\])+/, "");
  if (relative.split(sep).includes("..")) return undefined;
  const path = join(root, relative);
  if (!path.startsWith(root + sep)) return undefined;
  try {
    return { body: await readFile(path), type: CONTENT_TYPES[extname(path)] ?? "application/octet-stream" };
  } catch {
    return undefined;
  }
}
