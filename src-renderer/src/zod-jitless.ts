import { z } from "zod";

// zod probes for eval (new Function) to compile faster validators when a schema is built; the page's CSP forbids
// eval, and the probe alone is reported as a violation. This module is imported first so no schema is built before.
z.config({ jitless: true });
