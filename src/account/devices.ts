// How a session is described to the person: the browser and system it started on (bowser reads
// the user agent), and roughly where (a MaxMind-format city database when GEOIP_DATABASE is set,
// read locally: no address leaves the server), else the address itself.
import Bowser from 'bowser';
import maxmind from 'maxmind';
import type { CityResponse, Reader } from 'maxmind';
import type { Logger } from '../log.ts';

export interface DeviceView {
  browser: string | undefined;
  system: string | undefined;
}

export function describeUserAgent(userAgent: string | null | undefined): DeviceView {
  if (!userAgent) return { browser: undefined, system: undefined };
  const parsed = Bowser.getParser(userAgent).getResult();
  const named = (name?: string, version?: string) => (name ? [name, version?.split('.')[0]].filter(Boolean).join(' ') : undefined);
  return { browser: named(parsed.browser.name, parsed.browser.version), system: named(parsed.os.name, parsed.os.versionName ?? parsed.os.version) };
}

export type Locate = (ip: string | null | undefined, locale: string) => Promise<string | undefined>;

/** Where an address is, in words ("Lyon, France"); undefined without a database or a match. */
export function createLocator(database: string | undefined, log: Logger): Locate {
  if (!database) return async () => undefined;
  let reader: Promise<Reader<CityResponse> | undefined> | undefined;
  const open = () =>
    (reader ??= maxmind.open<CityResponse>(database).catch((error: unknown) => {
      log.warn({ err: error, database }, 'GEOIP_DATABASE could not be read: sessions show addresses only');
      return undefined;
    }));
  return async (ip, locale) => {
    if (!ip || !maxmind.validate(ip)) return undefined;
    const found = (await open())?.get(ip);
    const name = (names?: Record<string, string>) => names?.[locale] ?? names?.en;
    const parts = [name(found?.city?.names as Record<string, string> | undefined), name(found?.country?.names as Record<string, string> | undefined)].filter(Boolean);
    return parts.length ? parts.join(', ') : undefined;
  };
}
