/**
 * Talking to a running broker's admin API from the CLI: signs in as `admin` with
 * DESKBROKER_ADMIN_PASSWORD (or uses DESKBROKER_TOKEN) and reports API errors as one line.
 */
export async function adminFetch(
  baseUrl: string,
  env: NodeJS.ProcessEnv,
  path: string,
  init: RequestInit,
): Promise<Response> {
  let token = env.DESKBROKER_TOKEN;
  if (!token) {
    const password = env.DESKBROKER_ADMIN_PASSWORD;
    if (!password) {
      throw new Error('set DESKBROKER_ADMIN_PASSWORD (or DESKBROKER_TOKEN) to use --url');
    }
    const login = await fetch(new URL('/api/v1/login', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    if (!login.ok)
      throw new Error(`cannot sign in as admin at ${baseUrl}: ${await errorText(login)}`);
    token = ((await login.json()) as { token: string }).token;
  }
  const res = await fetch(new URL(path, baseUrl), {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { message?: string; problems?: string[] };
    const problems = body.problems ? `\n  ${body.problems.join('\n  ')}` : '';
    throw new Error(`${res.status}: ${body.message ?? res.statusText}${problems}`);
  }
  return res;
}

async function errorText(res: Response): Promise<string> {
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  return `${res.status} ${body.message ?? res.statusText}`;
}
