import { describe, expect, it } from "vitest";
import { isBuildError } from "../../../src/diagnostics/build-error.js";
import {
  CAPABILITY_NAMES,
  DEFAULT_CAPABILITIES,
  capabilityMask,
  normalizeCapabilities,
} from "../../../src/sandbox/capabilities.js";

describe("capabilities", () => {
  it("numbers capabilities as the kernel does", () => {
    expect(CAPABILITY_NAMES.indexOf("CAP_SYS_ADMIN")).toBe(21);
    expect(CAPABILITY_NAMES.indexOf("CAP_SETFCAP")).toBe(31);
    expect(CAPABILITY_NAMES.indexOf("CAP_CHECKPOINT_RESTORE")).toBe(40);
  });

  it("gives Docker's well-known CapEff mask for the default set", () => {
    expect(capabilityMask(DEFAULT_CAPABILITIES)).toBe("00000000a80425fb");
    expect(capabilityMask([])).toBe("0000000000000000");
    expect(capabilityMask(CAPABILITY_NAMES)).toBe("000001ffffffffff");
  });

  it("normalises names and rejects unknown ones", () => {
    expect(normalizeCapabilities(["net_admin", "CAP_NET_ADMIN", " sys_ptrace "])).toEqual([
      "CAP_NET_ADMIN",
      "CAP_SYS_PTRACE",
    ]);
    let err: unknown;
    try {
      normalizeCapabilities(["CAP_EVERYTHING"]);
    } catch (e) {
      err = e;
    }
    expect(isBuildError(err, "INTERNAL")).toBe(true);
  });
});
