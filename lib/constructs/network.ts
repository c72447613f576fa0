/**
 * The network: a VPC of public subnets (load balancer, gateways), private subnets with a
 * NAT route (Lambdas, which must reach desktops and gateways as well as AWS APIs) and
 * isolated subnets (Aurora). Or an existing VPC, looked up by ID.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * An existing VPC to use instead of creating one. Needs the stack's account and region
   * (a context lookup, cached in cdk.context.json).
   * @default - a new VPC
   */
  readonly vpcId?: string;
  /**
   * Availability zones of a new VPC. Two at least: the database's reader lives in another
   * AZ than its writer.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * NAT gateways of a new VPC (one is about 32 USD a month; one per AZ survives an AZ loss).
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Retention of the VPC flow log (rejected traffic only).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** The broker's VPC. */
export class Network extends Construct {
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (maxAzs < 2) {
      throw new Error('Network: maxAzs must be at least 2 (the database reader needs another AZ)');
    }
    if (props.vpcId) {
      this.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId });
      return;
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs,
      natGateways: props.natGateways ?? 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // Free gateway endpoints: DynamoDB traffic (every request) and S3 (ECR image layers)
      // skip the NAT gateway and its per-GB charge.
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    this.vpc = vpc;
  }
}
