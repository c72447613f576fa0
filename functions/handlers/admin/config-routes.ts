/**
 * `/api/v1/admin/config`: GET exports the site configuration (no stored secret: "(kept)" in
 * their place), PUT applies one (YAML or JSON); a refusal lists every problem with the line
 * of the file its path names, for an editor to show beside it.
 */
import type { Broker } from '../../compose.ts';
import { BadRequestError } from '../../core/errors.ts';
import { describeChange } from '../../core/site-config/diff.ts';
import { InvalidConfigError } from '../../core/site-config/validate.ts';
import { applyConfigRoute, exportConfigRoute } from '../api/admin.ts';
import { applyDeps } from '../http/deps.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';
import { bodyText, header } from '../http/request.ts';
import { text } from '../http/response.ts';

// YAML (the `yaml` package, about 110 KB minified) loads with the first export or apply, not
// with every cold start of the admin Lambda.
const applyModule = () => import('../../core/site-config/apply.ts');

export function configRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, exportConfigRoute, async ({ event, query }) => {
      const { encodeConfig, exportSiteConfig } = await applyModule();
      const config = await exportSiteConfig(broker.siteConfig);
      const wantsYaml = query.format === 'yaml' || /yaml/.test(header(event, 'accept') ?? '');
      return wantsYaml
        ? text(200, encodeConfig(config, 'yaml'), {
            'content-type': 'application/yaml; charset=utf-8',
          })
        : config;
    }),
    sessionEndpoint(broker, applyConfigRoute, async ({ session, event, query }) => {
      const { applySiteConfig, decodeConfigText } = await applyModule();
      const source = bodyText(event);
      const document = decodeConfigText(source);
      const dryRun = query.dryRun === 'true';
      // This broker sees the change at once; the others within CONFIG_CACHE_SECONDS.
      const result = await applySiteConfig(applyDeps(broker), document, { dryRun }).catch(
        async (e: unknown) => {
          if (!(e instanceof InvalidConfigError)) throw e;
          const { locateProblems } = await import('../../core/site-config/locate.ts');
          throw new BadRequestError(e.code, e.message, {
            ...e.details,
            issues: locateProblems(source, e.problems),
          });
        },
      );
      broker.logger.info('site configuration applied', {
        by: session.user,
        dryRun,
        changes: result.changes.length,
      });
      return {
        dryRun,
        changed: result.changes.length > 0,
        changes: result.changes.map(describeChange),
      };
    }),
  ];
}
