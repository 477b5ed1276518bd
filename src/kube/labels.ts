/** Labels and annotations Plexus puts on (and selects) Kubernetes objects, and the metadata of the objects it owns. */

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_PLEXUS = 'plexus';

/** The metadata of an object Plexus writes and owns (a shadow Service, a NetworkPolicy). */
export interface ManagedMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Selects the agent pods (as labelled by manifests/40-daemonset.yaml). */
export const AGENT_POD_SELECTOR: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'plexus',
  'app.kubernetes.io/component': 'agent',
};

/**
 * On the agent pod template (manifests/40-daemonset.yaml): whether its agents run secure mode,
 * "true" or "false". The agent reads it as PLEXUS_SECURE (downward API), and every agent reads it
 * on the other agents' pods to know which ones speak the tunnel: switching secure mode is a change
 * of this annotation, which is a rollout (docs/secure-mode.md, "Switching secure mode").
 */
export const SECURE_ANNOTATION = 'plexus.dev/secure';

/** On a shadow Service (label and annotation): the original Service it stands for. */
export const SHADOW_OF_NAMESPACE = 'plexus.dev/shadow-of-namespace';
export const SHADOW_OF_NAME = 'plexus.dev/shadow-of-name';

/** The label selector of shadow Services (in the mesh namespace). */
export const SHADOW_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_PLEXUS}`;

/** The agent DaemonSet and the issuer Deployment (manifests/40-daemonset.yaml, 45-issuer.yaml). */
export const AGENT_DAEMONSET = 'plexus-agent';
export const ISSUER_DEPLOYMENT = 'plexus-issuer';

/** The agents' ServiceAccount (manifests/20-serviceaccount.yaml), in the mesh namespace. */
export const AGENT_SERVICE_ACCOUNT = 'plexus-agent';
