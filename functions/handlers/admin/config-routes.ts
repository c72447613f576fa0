/**
 * `/api/v1/admin/config`: GET exports the site configuration (no clear secret: bind
 * passwords and TOTP secrets as "(kept)"), PUT applies one (YAML or JSON); its problems
 * come with the line of the file each names.
 */
import type { Broker } from '../../compose.ts';
import { BadRequestError } from '../../core/errors.ts';
import {
  applySiteConfig,
  decodeConfigText,
  encodeConfig,
  withoutSecrets,
} from '../../core/site-config/apply.ts';
import { describeChange } from '../../core/site-config/diff.ts';
import { locateProblems } from '../../core/site-config/locate.ts';
import { InvalidConfigError } from '../../core/site-config/validate.ts';
import { applyConfigRoute, exportConfigRoute } from '../api/admin.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';
import { bodyText, header } from '../http/request.ts';
import { text } from '../http/response.ts';

export function configRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, exportConfigRoute, async ({ event, query }) => {
      const config = withoutSecrets(await broker.siteConfig.read());
      const wantsYaml = query.format === 'yaml' || /yaml/.test(header(event, 'accept') ?? '');
      return wantsYaml
        ? text(200, encodeConfig(config, 'yaml'), {
            'content-type': 'application/yaml; charset=utf-8',
          })
        : config;
    }),
    sessionEndpoint(broker, applyConfigRoute, async ({ session, event, query }) => {
      const text = bodyText(event);
      const document = decodeConfigText(text);
      const dryRun = query.dryRun === 'true';
      const result = await applySiteConfig(
        {
          store: broker.siteConfig,
          hasher: broker.hasher,
          afterApply: broker.leasing.afterApply,
        },
        document,
        { dryRun },
      ).catch((e: unknown) => {
        if (!(e instanceof InvalidConfigError)) throw e;
        // Every problem, and the line of the file it names, for an editor to show beside it.
        throw new BadRequestError(e.code, e.message, {
          ...e.details,
          issues: locateProblems(text, e.problems),
        });
      });
      // This broker sees the change at once; the others within CONFIG_CACHE_SECONDS.
      if (result.changes.length > 0 && !dryRun) broker.snapshot.invalidate();
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
