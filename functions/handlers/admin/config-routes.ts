/**
 * `/api/v1/admin/config`: GET exports the site configuration, PUT applies one (YAML or JSON).
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../../compose.ts';
import {
  applySiteConfig,
  decodeConfigText,
  encodeConfig,
  exportSiteConfig,
} from '../../core/site-config/apply.ts';
import { describeChange } from '../../core/site-config/diff.ts';
import { applyDeps } from '../http/deps.ts';
import type { Route } from '../http/handler.ts';
import { bodyText, header, queryParam } from '../http/request.ts';
import { json, text } from '../http/response.ts';
import { requireAdminSession } from '../http/session.ts';

export function configRoutes(broker: Broker): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/admin/config',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        const config = await exportSiteConfig(broker.siteConfig);
        const wantsYaml =
          queryParam(event, 'format') === 'yaml' || /yaml/.test(header(event, 'accept') ?? '');
        return wantsYaml
          ? text(200, encodeConfig(config, 'yaml'), {
              'content-type': 'application/yaml; charset=utf-8',
            })
          : json(200, config);
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/admin/config',
      handler: async (event: ALBEvent) => {
        const session = await requireAdminSession(broker, event);
        const document = decodeConfigText(bodyText(event));
        const dryRun = queryParam(event, 'dryRun') === 'true';
        // This broker sees the change at once; the others within CONFIG_CACHE_SECONDS.
        const result = await applySiteConfig(applyDeps(broker), document, { dryRun });
        broker.logger.info('site configuration applied', {
          by: session.user,
          dryRun,
          changes: result.changes.length,
        });
        return json(200, {
          dryRun,
          changed: result.changes.length > 0,
          changes: result.changes.map(describeChange),
        });
      },
    },
  ];
}
