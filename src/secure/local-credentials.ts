/**
 * Local mode's credentials (`--ca-dir`): the agent signs its own certificates with the CA
 * folder, after the same node check the cluster leader makes (LocalIssuer), and re-reads the
 * folder on a timer so `plexus ca rotate|retire` reaches it.
 */
import { CaFolder } from './ca-folder.js';
import { LocalIssuer } from './issuer.js';
import type { CredentialsFactory } from './secure-mode.js';

export interface LocalCredentialsOptions {
  readonly caDir: string;
  readonly nodeName: string;
  readonly trustDomain: string;
  /** Certificate lifetime; default 24 h (tests shorten it to watch renewals). */
  readonly lifetimeMs?: number;
  /** How often the folder is re-read; default 10 s. */
  readonly reloadMs?: number;
}

export function localCredentials(options: LocalCredentialsOptions): CredentialsFactory {
  return async ({ identities, metrics, logger }) => {
    let onChange: () => void = () => undefined;
    const folder = await CaFolder.open(options.caDir, {
      intervalMs: options.reloadMs ?? 10_000,
      onError: (err) => logger.error({ err: err.message }, 'CA folder not readable: the last good CA stays in use'),
      onChange: () => onChange(),
    });
    if (folder.current.trustDomain !== options.trustDomain) {
      throw new Error(`--trust-domain ${options.trustDomain} does not match the CA in ${options.caDir} (trust domain ${folder.current.trustDomain})`);
    }
    const issuer = new LocalIssuer({
      nodeName: options.nodeName, ca: () => folder.current, identities, logger, metrics,
      ...(options.lifetimeMs === undefined ? {} : { lifetimeMs: options.lifetimeMs }),
    });
    return {
      issue: issuer.issue,
      trustBundle: () => folder.trustBundle(),
      roots: () => folder.current,
      start: (listener) => {
        onChange = listener;
        folder.start();
      },
      stop: () => folder.stop(),
    };
  };
}
