// Where Temporal is: Temporal's own environment variables, as its CLI reads them.
import { Client, Connection } from '@temporalio/client';

export const temporalAddress = (env = process.env) => env.TEMPORAL_ADDRESS ?? 'localhost:7233';
export const temporalNamespace = (env = process.env) => env.TEMPORAL_NAMESPACE ?? 'default';
/** The Web UI's base URL, for links printed by the CLI. */
export const temporalUiUrl = (env = process.env) => env.SLUICE_UI_URL ?? 'http://localhost:8233';

export async function connectClient(opts: { address?: string; namespace?: string } = {}): Promise<Client> {
  const connection = await Connection.connect({ address: opts.address ?? temporalAddress() });
  return new Client({ connection, namespace: opts.namespace ?? temporalNamespace() });
}

export function workflowUiLink(jobId: string, namespace = temporalNamespace()): string {
  return `${temporalUiUrl()}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(jobId)}`;
}
