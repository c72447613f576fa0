/** Walking the API contract in tests. */
import type { ApiRoute } from '../../functions/handlers/api/route.ts';

/** The route's path with every `{param}` filled by `value` (a plausible id by default). */
export const samplePath = (path: string, value = '1') => path.replace(/\{[^}]+\}/g, value);

/** `METHOD /path`, naming a route in assertion messages. */
export const routeKey = (r: ApiRoute) => `${r.method} ${r.path}`;
