import { describe, expect, it } from 'vitest';
import { ConfigError, describeTarget, loadConfig } from '../../functions/config.ts';

describe('loadConfig', () => {
  it('fills every default on an empty environment', () => {
    const config = loadConfig({});

    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.siteDb).toEqual({ kind: 'pglite', path: './.deskbroker/site' });
    expect(config.siteId).toBe(1);
    expect(config.stateTable).toBe('deskbroker-state');
    expect(config.health.maxLoad).toBe(4);
    expect(config.brokerCpus).toBeGreaterThanOrEqual(1);
  });

  it('reads a PostgreSQL URL and the secondary database', () => {
    const config = loadConfig({
      SITE_DB_URL: 'postgres://u:secret@db:5432/site',
      SECONDARY_DB_URL: 'postgresql://u:secret@db2/site',
    });

    expect(config.siteDb).toEqual({ kind: 'postgres', url: 'postgres://u:secret@db:5432/site' });
    expect(config.secondaryDb?.kind).toBe('postgres');
    expect(describeTarget(config.siteDb)).not.toContain('secret');
  });

  it('chooses the Data API when the cluster ARN is set', () => {
    const config = loadConfig({
      SITE_DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:1:cluster:site',
      SITE_DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:db',
      SITE_DB_NAME: 'broker',
    });

    expect(config.siteDb).toMatchObject({ kind: 'data-api', database: 'broker' });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ SITE_DB_URL: 'mysql://x' }, 'SITE_DB_URL'],
    [{ SITE_ID: '0' }, 'SITE_ID'],
    [{ SITE_DB_CLUSTER_ARN: 'arn:aws:rds:x' }, 'SITE_DB_SECRET_ARN'],
    [{ DYNAMODB_ENDPOINT: 'not a url' }, 'DYNAMODB_ENDPOINT'],
    [{ DESKBROKER_ADMIN_PASSWORD: 'short' }, 'DESKBROKER_ADMIN_PASSWORD'],
    [{ HEALTH_MAX_LOAD: '-1' }, 'HEALTH_MAX_LOAD'],
  ])('names the bad variable: %o', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`environment variable ${variable}`));
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });
});
