/**
 * HTTP requests for end-to-end tests, from a chosen loopback source address (127.0.0.x), so a
 * test can be several clients the load balancer tells apart by IP.
 */
import http from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON shapes.
  readonly body: any;
}

export function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    from?: string;
    token?: string;
  } = {},
): Promise<HttpAnswer> {
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined && !headers['content-type'])
    headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers, localAddress: options.from },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A client of one broker: signs in, then calls with its token. */
export function clientOf(baseUrl: string, from?: string) {
  let token: string | undefined;
  return {
    get token() {
      return token;
    },
    async login(body: Record<string, unknown>): Promise<HttpAnswer> {
      const answer = await request(`${baseUrl}/api/v1/login`, { method: 'POST', body, from });
      if (answer.status === 200) token = answer.body.token;
      return answer;
    },
    call(
      path: string,
      init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
    ) {
      return request(`${baseUrl}${path}`, { ...init, from, token });
    },
  };
}
