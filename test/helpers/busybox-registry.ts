import { afterAll, beforeAll } from "vitest";
import { buildBusyboxImage } from "./busybox-image.js";
import { startRegistry, type TestRegistry } from "./registry.js";
import { skopeoPush } from "./skopeo.js";

/** A running test registry holding the busybox image, for one test file. */
export interface BusyboxRegistry {
  /** The registry (valid once `beforeAll` ran). */
  readonly registry: TestRegistry;
  /** `HOST:PORT/busybox:test`, the base image to build FROM. */
  readonly base: string;
}

/**
 * Starts a registry for the calling test file and pushes the busybox image
 * to it (with skopeo, independent of the code under test); stops it after
 * the file. Call at the top level of a test file; read the fields inside tests.
 */
export function useBusyboxRegistry(): BusyboxRegistry {
  const state: { registry?: TestRegistry; base?: string } = {};
  beforeAll(async () => {
    state.registry = await startRegistry();
    await skopeoPush(await buildBusyboxImage(), { host: state.registry.host, repository: "busybox", tag: "test" });
    state.base = `${state.registry.host}/busybox:test`;
  });
  afterAll(() => state.registry?.stop());
  return {
    get registry(): TestRegistry {
      return state.registry!;
    },
    get base(): string {
      return state.base!;
    },
  };
}
