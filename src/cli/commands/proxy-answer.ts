/**
 * An agent's JSON answer read through the API server's pod proxy. client-node hands a JSON
 * answer over already parsed although its type says string, and text otherwise: take both.
 */
export function proxyAnswerObject(body: unknown): Record<string, unknown> | null {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return null;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : null;
}
