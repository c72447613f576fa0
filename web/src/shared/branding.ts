/**
 * The site's look, changed without rebuilding: `/branding/branding.json` (served from
 * `DESKBROKER_HOME/branding/` locally, from the `branding/` prefix of the web bucket on AWS)
 * may name a title, a logo file, an accent colour and a stylesheet in the same folder.
 */
export interface Branding {
  readonly title: string;
  /** URL of the logo image. */
  readonly logo: string;
}

export const DEFAULT_BRANDING: Branding = { title: 'deskbroker', logo: '/logo.svg' };

const FILE = /^[\w.-]+\.(svg|png|jpe?g|webp|gif|css)$/i;
const COLOR = /^#[0-9a-f]{3,8}$/i;

/** Reads the branding file, applies its colour and stylesheet; defaults when there is none. */
export async function loadBranding(): Promise<Branding> {
  let raw: Record<string, unknown> = {};
  try {
    const res = await fetch('/branding/branding.json', { credentials: 'same-origin' });
    if (res.ok) raw = (await res.json()) as Record<string, unknown>;
  } catch {
    // No branding (or an unreadable file): the defaults.
  }
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string).trim() : '');
  const title = str('title').slice(0, 80) || DEFAULT_BRANDING.title;
  const logo = FILE.test(str('logo')) ? `/branding/${str('logo')}` : DEFAULT_BRANDING.logo;
  if (COLOR.test(str('accentColor')))
    document.documentElement.style.setProperty('--accent', str('accentColor'));
  if (FILE.test(str('stylesheet')) && str('stylesheet').endsWith('.css')) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = `/branding/${str('stylesheet')}`;
    document.head.append(link);
  }
  return { title, logo };
}
