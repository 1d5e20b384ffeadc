import { defineConfig } from "vitest/config";

// Three tiers, as in DESIGN.md: unit tests are pure and fast; integration and
// e2e tests use real components (runc, the distribution registry, skopeo,
// umoci) and are slower, so they get longer timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
