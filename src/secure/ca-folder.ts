/**
 * The CA folder of a running agent (`--ca-dir`), re-read on a timer so that a `plexus ca rotate`
 * or `retire` reaches every agent without a restart: the new trust bundle applies to new
 * connections, and certificates move to the new root at their next renewal.
 */
import { loadCa, trustBundle, type MeshCa } from './ca.js';

export interface CaFolderOptions {
  /** How often to re-read the folder; default 10 s. */
  readonly intervalMs?: number;
  /** The folder now holds a different root or trust bundle. */
  readonly onChange?: (ca: MeshCa) => void;
  /** A re-read failed (the last good CA stays in use). */
  readonly onError?: (error: Error) => void;
}

export class CaFolder {
  readonly #dir: string;
  readonly #options: CaFolderOptions;
  #ca: MeshCa;
  #timer: NodeJS.Timeout | null = null;

  private constructor(dir: string, ca: MeshCa, options: CaFolderOptions) {
    this.#dir = dir;
    this.#ca = ca;
    this.#options = options;
  }

  /** Reads the folder once; throws CaError when it holds no usable CA. */
  static async open(dir: string, options: CaFolderOptions = {}): Promise<CaFolder> {
    return new CaFolder(dir, await loadCa(dir), options);
  }

  get current(): MeshCa {
    return this.#ca;
  }

  trustBundle(): string[] {
    return trustBundle(this.#ca);
  }

  /** Re-reads the folder; true when the CA changed. Errors keep the last good CA. */
  async reload(): Promise<boolean> {
    let next: MeshCa;
    try {
      next = await loadCa(this.#dir);
    } catch (err) {
      this.#options.onError?.(err as Error);
      return false;
    }
    if (next.certPem === this.#ca.certPem && next.previousCertPem === this.#ca.previousCertPem) return false;
    this.#ca = next;
    this.#options.onChange?.(next);
    return true;
  }

  /** Re-read on a timer (unref'd). */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => { void this.reload(); }, this.#options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
