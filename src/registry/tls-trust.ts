/**
 * Extra certificate authorities for tsbuild's TLS connections, loaded only
 * when a TLS connection is actually opened.
 *
 * Node reads `NODE_EXTRA_CA_CERTS` at start-up and parses its whole CA store
 * with it, which cost ~70 ms of every tsbuild run on the target machine
 * (most runs never open a TLS connection: a no-op build, a push to a
 * loopback registry). `bin/tsbuild` therefore passes the file on as
 * `TSBUILD_EXTRA_CA_CERTS`, and connections made here trust Node's bundled
 * roots plus that file, which is what `NODE_EXTRA_CA_CERTS` would have given.
 *
 * When the variable is unset, nothing changes: Node's default trust applies
 * (including `NODE_EXTRA_CA_CERTS` if a caller left it in place). As with
 * Node's own handling, an unreadable file is ignored rather than fatal.
 *
 * Reads `process.env` itself: this is the process's trust configuration, the
 * same way Node's own variable applies without being passed around.
 */
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import type { buildConnector } from "undici";
import { undiciBuildConnector } from "./undici-lite.js";

let loaded: { readonly file: string; readonly context: SecureContext | undefined } | undefined;

/**
 * A TLS context trusting Node's bundled roots plus the PEM file named by
 * `TSBUILD_EXTRA_CA_CERTS`, built once per process; undefined when the
 * variable is unset or its file cannot be read.
 */
export function extraTrustContext(env: NodeJS.ProcessEnv = process.env): SecureContext | undefined {
  const file = env.TSBUILD_EXTRA_CA_CERTS;
  if (!file) return undefined;
  if (loaded?.file !== file) {
    let context: SecureContext | undefined;
    try {
      context = createSecureContext({ ca: [...rootCertificates, readFileSync(file, "utf8")] });
    } catch {
      context = undefined;
    }
    loaded = { file, context };
  }
  return loaded.context;
}

/**
 * The `connect` option for an undici Agent: plain options when there are no
 * extra CAs, else a connector that builds the TLS context on its first TLS
 * connection (so plain-HTTP registries never pay for parsing the CA store).
 */
export function connectOption(timeout: number, env: NodeJS.ProcessEnv = process.env): buildConnector.BuildOptions | buildConnector.connector {
  if (!env.TSBUILD_EXTRA_CA_CERTS) return { timeout };
  const plain = undiciBuildConnector({ timeout });
  let secure: buildConnector.connector | undefined;
  return (options, callback) => {
    if (options.protocol !== "https:") return plain(options, callback);
    if (!secure) {
      const context = extraTrustContext(env);
      secure = undiciBuildConnector(context ? { timeout, secureContext: context } : { timeout });
    }
    return secure(options, callback);
  };
}
