/** A file that could not be read as Kubernetes manifests, located to the line. */
export interface ManifestError {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly message: string;
}

/** `path:line: message`, the form editors and terminals turn into links. */
export function formatManifestError(error: ManifestError): string {
  return `${error.file}:${error.line}: ${error.message}`;
}
