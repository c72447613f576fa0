/**
 * The state table (DynamoDB): sessions, leases, throttling and the failover choice, apart
 * from the site database so they outlive its outages. On demand, TTL on `ttl`, point-in-time
 * recovery. The key schema and the TTL attribute come from the adapter that uses the table.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { STATE_TABLE_KEYS, TTL_ATTRIBUTE } from '../../functions/adapters/state/state-table.ts';

export interface StateTableProps {
  /**
   * What happens to the table when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** @default true */
  readonly deletionProtection?: boolean;
}

/** The broker's DynamoDB state table. */
export class StateTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Sets STATE_TABLE on `fn` and grants it read and write. */
  public bind(fn: lambda.Function): void {
    fn.addEnvironment('STATE_TABLE', this.table.tableName);
    this.table.grantReadWriteData(fn);
  }
}
