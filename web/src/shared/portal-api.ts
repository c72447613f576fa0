/** The calls the user portal makes, typed by the API contract. */
import type {
  authServersRoute,
  loginRoute,
  logoutRoute,
  sessionRoute,
} from '../../../functions/handlers/api/login.ts';
import type {
  connectRoute,
  listOffersRoute,
  releaseRoute,
} from '../../../functions/handlers/api/offers.ts';
import { type Answer, type Body, call, rememberToken } from './api.ts';

export type LoginAnswer = Answer<typeof loginRoute>;
export type OfferList = Answer<typeof listOffersRoute>;
export type Offer = OfferList['offers'][number];
/** What connect answers for a desktop client (the portal's Connect buttons). */
export type Connection = Extract<Answer<typeof connectRoute>, { display: 'client' }>;
/** What connect answers for the browser (the HTML5 desktop page). */
export type BrowserConnection = Extract<Answer<typeof connectRoute>, { display: 'browser' }>;
export type AuthServer = Answer<typeof authServersRoute>['authServers'][number];
export type SessionInfo = Answer<typeof sessionRoute>;

export const portalApi = {
  session: () => call<SessionInfo>('GET', '/api/v1/session'),
  authServers: () => call<Answer<typeof authServersRoute>>('GET', '/api/v1/auth-servers'),
  async login(body: Body<typeof loginRoute>): Promise<LoginAnswer> {
    const answer = await call<LoginAnswer>('POST', '/api/v1/login', { body });
    rememberToken(answer.token);
    return answer;
  },
  async logout(): Promise<void> {
    try {
      await call<Answer<typeof logoutRoute>>('POST', '/api/v1/logout');
    } finally {
      rememberToken(undefined);
    }
  },
  offers: () => call<OfferList>('GET', '/api/v1/offers'),
  connect: (desktopId: number, body: { readonly protocol?: string }) =>
    call<Connection>('POST', `/api/v1/offers/${desktopId}/connect`, {
      body: { ...body, display: 'client' } satisfies Body<typeof connectRoute>,
    }),
  /** A gateway WebSocket URL and a one-time ticket for showing the desktop in this browser. */
  connectInBrowser: (desktopId: number, protocol?: string) =>
    call<BrowserConnection>('POST', `/api/v1/offers/${desktopId}/connect`, {
      body: { protocol, display: 'browser' } satisfies Body<typeof connectRoute>,
    }),
  release: (desktopId: number) =>
    call<Answer<typeof releaseRoute>>('POST', `/api/v1/offers/${desktopId}/release`),
};
