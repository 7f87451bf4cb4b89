import net from 'node:net';
import { ProblemError } from '@mpanel/sdk';
import { bareHost, isLocalName, isPrivateAddress } from './network-policy.js';

export const MAX_URL_LENGTH = 2048;

/**
 * Checks an endpoint URL and returns it normalised. Refused (422): anything but
 * absolute http/https URLs, credentials in the URL, whitespace or control
 * characters (the URL parser would silently drop them), over-long URLs, and —
 * unless the admin allows private networks — loopback/private IP literals and
 * `localhost`. Names are checked again after DNS when sending.
 */
export function checkEndpointUrl(raw: string, allowPrivateNetworks: boolean): string {
  const invalid = (why: string) => new ProblemError('invalid-url', `The endpoint URL ${why}`, { status: 422, title: 'Invalid webhook URL', extensions: { errors: [{ pointer: '/body/url', message: why }] } });
  if (raw.length > MAX_URL_LENGTH) throw invalid(`is longer than ${MAX_URL_LENGTH} characters`);
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) throw invalid('must not contain whitespace or control characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`must use http or https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw invalid('must not contain a user name or password; authenticate with the signature instead');
  if (!url.hostname) throw invalid('has no host');
  if (url.href.length > MAX_URL_LENGTH) throw invalid(`is longer than ${MAX_URL_LENGTH} characters`);
  if (!allowPrivateNetworks) {
    const host = bareHost(url.hostname);
    if (isLocalName(host) || (net.isIP(host) && isPrivateAddress(host))) {
      throw new ProblemError('url-not-allowed', `The endpoint URL points at a loopback or private address (${host}); an admin can allow private networks in the plugin settings`, {
        status: 422, title: 'Webhook URL not allowed', extensions: { errors: [{ pointer: '/body/url', message: 'points at a private address' }] },
      });
    }
  }
  return url.href;
}
