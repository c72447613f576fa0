/**
 * A production-shaped deployment: HTTPS with a certificate and a domain name, a failover
 * (secondary) database, more gateways. One synthesis for the file (with cdk-nag).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsMaxConcurrency } from '../../functions/core/jobs/limits.ts';
import { type Synthesized, synthDeskbroker } from './synth.ts';

const CERTIFICATE =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0f6c2a9e-1111-2222-3333-444455556666';

let s: Synthesized;
let stateful: Template;
let stateless: Template;

beforeAll(() => {
  s = synthDeskbroker({
    certificateArn: CERTIFICATE,
    domainName: 'broker.example.org',
    secondaryDatabase: true,
    brokerCpus: 400,
    gatewayDesiredCount: 2,
    gatewayMaxCount: 10,
    gatewayPortRange: '30000-30999',
  });
  stateful = s.statefulTemplate;
  stateless = s.statelessTemplate;
});
afterAll(() => s?.cleanup());

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON; the assertions check their shape.
type Resource = { Properties: Record<string, any> };
const resources = (t: Template, type: string) => Object.values(t.findResources(type)) as Resource[];

describe('HTTPS', () => {
  it('serves the broker on 443 with the certificate and redirects 80 to it', () => {
    const listeners = resources(stateless, 'AWS::ElasticLoadBalancingV2::Listener');
    const https = listeners.find((l) => l.Properties.Port === 443);
    expect(https?.Properties).toMatchObject({
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE }],
    });
    expect(String(https?.Properties.SslPolicy)).toMatch(/^ELBSecurityPolicy-/);
    const redirect = listeners.find((l) => l.Properties.Port === 80);
    expect(redirect?.Properties.DefaultActions[0]).toMatchObject({
      Type: 'redirect',
      RedirectConfig: { Port: '443', Protocol: 'HTTPS' },
    });
    expect(s.stateless.api?.protocol).toBe('https');
  });

  it('serves the gateway HTTP face over HTTPS too, and gives the gateways the domain name', () => {
    const gateway = resources(stateless, 'AWS::ElasticLoadBalancingV2::Listener').find(
      (l) => l.Properties.Port === 8443,
    );
    expect(gateway?.Properties.Protocol).toBe('HTTPS');
    const container = resources(stateless, 'AWS::ECS::TaskDefinition')[0]!.Properties
      .ContainerDefinitions[0];
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env.BROKER_URL).toBe('https://broker.example.org');
    expect(env.GATEWAY_PORT_RANGE).toBe('30000-30999');
    expect(container.PortMappings).toContainEqual(
      expect.objectContaining({ ContainerPortRange: '30000-30999' }),
    );
  });

  it('runs the configured number of gateways, scaling up to the maximum', () => {
    expect(resources(stateless, 'AWS::ECS::Service')[0]!.Properties.DesiredCount).toBe(2);
    expect(
      resources(stateless, 'AWS::ApplicationAutoScaling::ScalableTarget')[0]!.Properties,
    ).toMatchObject({
      MinCapacity: 2,
      MaxCapacity: 10,
    });
  });
});

describe('secondary database', () => {
  it('adds a second Aurora cluster with the Data API on, writer only', () => {
    const clusters = resources(stateful, 'AWS::RDS::DBCluster');
    expect(clusters).toHaveLength(2);
    for (const c of clusters) {
      expect(c.Properties.EnableHttpEndpoint).toBe(true);
      expect(c.Properties.DeletionProtection).toBe(true);
    }
    // Primary: writer + reader; secondary: writer.
    expect(resources(stateful, 'AWS::RDS::DBInstance')).toHaveLength(3);
  });

  it('binds SECONDARY_DB_* to every broker function, with access to it', () => {
    const functions = [
      ...Object.values(s.stateless.functions.http),
      s.stateless.functions.jobs,
      s.stateless.functions.migrate,
    ];
    for (const fn of functions) {
      const id = s.stateless.getLogicalId(fn.node.defaultChild as never);
      const vars = (stateless.toJSON().Resources[id] as Resource).Properties.Environment.Variables;
      expect(Object.keys(vars), id).toEqual(
        expect.arrayContaining([
          'SECONDARY_DB_CLUSTER_ARN',
          'SECONDARY_DB_SECRET_ARN',
          'SECONDARY_DB_NAME',
        ]),
      );
      expect(JSON.stringify(vars.SECONDARY_DB_CLUSTER_ARN)).toContain('SecondaryDatabase');
    }
    const policies = JSON.stringify(resources(stateless, 'AWS::IAM::Policy'));
    expect(policies).toContain('SecondaryDatabaseCluster');
  });
});

describe('job concurrency', () => {
  it('clamps a large brokerCpus to the SQS maximum of 1000', () => {
    const esm = resources(stateless, 'AWS::Lambda::EventSourceMapping')[0]!;
    expect(esm.Properties.ScalingConfig.MaximumConcurrency).toBe(sqsMaxConcurrency(400));
    expect(sqsMaxConcurrency(400)).toBe(1000);
  });
});
