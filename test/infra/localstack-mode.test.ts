/**
 * The LocalStack deployment (`-c localstack=true`): only what LocalStack's free edition
 * emulates (Lambda, SQS, DynamoDB, Secrets Manager, IAM, CloudWatch, mocked Scheduler), the
 * site database by URL, classic cross-stack exports. One synthesis for the file.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthDeskbroker } from './synth.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON; the assertions check their shape.
type Resource = { Properties: Record<string, any> };

const SITE_DB_URL = 'postgres://postgres@172.17.0.1:5432/deskbroker_localstack';

let s: Synthesized;
let stateful: Template;
let stateless: Template;

beforeAll(() => {
  s = synthDeskbroker({ localstack: true, siteDbUrl: SITE_DB_URL }, { region: 'us-east-1' });
  stateful = s.statefulTemplate;
  stateless = s.statelessTemplate;
});
afterAll(() => s?.cleanup());

describe('LocalStack mode', () => {
  it('creates none of the Pro-only services: no VPC, Aurora, load balancer or ECS', () => {
    for (const t of [stateful, stateless]) {
      for (const type of [
        'AWS::EC2::VPC',
        'AWS::RDS::DBCluster',
        'AWS::ElasticLoadBalancingV2::LoadBalancer',
        'AWS::ECS::Service',
      ]) {
        t.resourceCountIs(type, 0);
      }
    }
  });

  it('points the functions at the PostgreSQL URL and keeps them out of a VPC', () => {
    const functions = Object.values(stateless.findResources('AWS::Lambda::Function')).filter((f) =>
      JSON.stringify(f).includes('deskbroker:'),
    ) as Resource[];
    expect(functions).toHaveLength(8);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.SITE_DB_URL).toBe(SITE_DB_URL);
      expect(fn.Properties.Environment.Variables.SITE_DB_CLUSTER_ARN).toBeUndefined();
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });

  it('keeps the state table, the queues, the schedules, the migration, the queue and leased-mode alarms', () => {
    stateful.resourceCountIs('AWS::DynamoDB::Table', 1);
    stateful.resourceCountIs('AWS::SQS::Queue', 2);
    stateless.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    stateless.resourceCountIs('Custom::DeskbrokerSchema', 1);
    expect(Object.keys(stateless.findResources('AWS::Scheduler::Schedule')).length).toBeGreaterThan(
      1,
    );
    // The DLQ, job age and leased-mode alarms: no load balancer, gateway or Aurora here.
    stateless.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    stateless.resourceCountIs('AWS::RDS::EventSubscription', 0);
    stateless.resourceCountIs('AWS::SNS::Topic', 1);
  });

  it('references the stateful stack through classic exports (Fn::ImportValue)', () => {
    const text = JSON.stringify(stateless.toJSON());
    expect(text).toContain('Fn::ImportValue');
    expect(text).not.toContain('Fn::GetStackOutput');
  });

  it('outputs the function names the LocalStack suite invokes', () => {
    const outputs = Object.keys(stateless.findOutputs('*'));
    for (const name of [
      'healthFunctionName',
      'loginFunctionName',
      'adminFunctionName',
      'jobsFunctionName',
    ]) {
      expect(outputs).toContain(name);
    }
  });
});
