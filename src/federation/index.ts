// The upstream identity providers that are configured. Adding one: a module like google.ts
// and one line here.
import type { Config } from '../config.ts';
import type { CallbackConnector } from './connector.ts';
import { createGoogleConnector } from './google.ts';

export type { CallbackConnector, Identity } from './connector.ts';
export { UpstreamError } from './connector.ts';

export type Connectors = ReadonlyMap<string, CallbackConnector>;

export function createConnectors(config: Config): Connectors {
  const connectors: CallbackConnector[] = [];
  if (config.google) connectors.push(createGoogleConnector(config.google, { issuer: config.issuer, timeoutSeconds: config.federationTimeout }));
  return new Map(connectors.map((connector) => [connector.id, connector]));
}
