/**
 * The pages on AWS: the built web/dist/ in a private S3 bucket behind CloudFront (origin access
 * control), with the load balancer as CloudFront's second origin for `/api/*` and `/index.pl`,
 * so the browser sees one origin for pages and API (the session cookie is SameSite=Strict).
 *
 * - Pages get the same headers as locally (functions/pages.ts) through a response-headers
 *   policy, plus HSTS; a CloudFront Function maps page paths to their HTML (the same table
 *   the local runtime uses) and answers unknown paths with 404.
 * - API requests pass with their cookies, query and headers (not the Host header: the load
 *   balancer's certificate names the broker's domain), uncached. CloudFront adds the origin
 *   secret header, so the broker knows the client's address is the one CloudFront saw, and
 *   `X-Forwarded-Host`, so its cross-site check knows the host the browser used.
 * - The load balancer stays reachable directly for desktop clients and agents.
 * - Hashed assets are cached for a year; pages are revalidated. The `branding/` prefix is the
 *   site's own (logo, title, colours): deployments never overwrite or delete it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CDN_ORIGIN_HEADER } from '../../functions/handlers/http/request.ts';
import { HTTP_FUNCTIONS } from '../../functions/handlers/routes.ts';
import { DESKTOP_PAGE_HEADERS, PAGE_HEADERS, PAGE_ROUTES } from '../../functions/pages.ts';

/** The built pages (`npm run build:web`; lib/app.ts builds them before synthesizing). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface PortalProps {
  /**
   * Where CloudFront reaches the load balancer: the broker's domain name over HTTPS (the
   * name on the load balancer's certificate), or the load balancer's DNS name over plain HTTP.
   */
  readonly api: { readonly domainName: string; readonly protocol: 'http' | 'https' };
  /** The value CloudFront sends in the origin header; the broker functions read it by ARN. */
  readonly originSecret: secretsmanager.ISecret;
  /**
   * A custom name for the portal and its certificate (ACM, in us-east-1, as CloudFront needs).
   * @default - the distribution's own *.cloudfront.net name
   */
  readonly customDomain?: { readonly domainName: string; readonly certificate: acm.ICertificate };
  /** Bucket for the web bucket's access logs. @default - none (acknowledged) */
  readonly accessLogBucket?: s3.IBucket;
  /** @default RemovalPolicy.DESTROY (the bucket holds build output, rebuilt on every deploy) */
  readonly removalPolicy?: RemovalPolicy;
  /** The built pages. @default WEB_DIST */
  readonly webDist?: string;
}

/** The web bucket, the CloudFront distribution, and the deployment of the pages. */
export class Portal extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly logBucket: s3.Bucket;
  /** The portal's URL. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: PortalProps) {
    super(scope, id);
    const webDist = props.webDist ?? WEB_DIST;
    if (!existsSync(`${webDist}/index.html`)) {
      throw new Error(`Portal: the pages are not built (${webDist}): run npm run build:web`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.bucket = new s3.Bucket(this, 'Pages', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
      ...(props.accessLogBucket
        ? { serverAccessLogsBucket: props.accessLogBucket, serverAccessLogsPrefix: 'pages-bucket/' }
        : {}),
    });
    if (!props.accessLogBucket) {
      Validations.of(this.bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'Synthesized without a region, so there is no access-log bucket; CloudFront logs every request to the pages anyway.',
      });
    }
    // CloudFront's standard logs need a bucket that accepts ACLs.
    this.logBucket = new s3.Bucket(this, 'CdnLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket holds the CloudFront access logs; logging access to the log bucket itself would only log the log writer.',
    });

    const pageHeaders = pageResponseHeaders(this, 'PageHeaders', PAGE_HEADERS);
    // The HTML5 desktop page has its own policy (functions/pages.ts DESKTOP_PAGE_CSP).
    const desktopPageHeaders = pageResponseHeaders(
      this,
      'DesktopPageHeaders',
      DESKTOP_PAGE_HEADERS,
    );
    const pageRouter = new cloudfront.Function(this, 'PageRouter', {
      comment: 'deskbroker: page paths to their HTML (functions/pages.ts), 404 for others',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(pageRouterCode()),
    });
    const forwardedHost = new cloudfront.Function(this, 'ForwardedHost', {
      comment: 'deskbroker: tells the broker which host the browser used (X-Forwarded-Host)',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(FORWARDED_HOST_CODE),
    });

    const pagesOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const pageBehavior = (
      headers: cloudfront.IResponseHeadersPolicy,
    ): cloudfront.BehaviorOptions => ({
      origin: pagesOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: headers,
      compress: true,
      functionAssociations: [
        { function: pageRouter, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
      ],
    });

    const apiOrigin = new origins.HttpOrigin(props.api.domainName, {
      protocolPolicy:
        props.api.protocol === 'https'
          ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY
          : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      customHeaders: { [CDN_ORIGIN_HEADER]: props.originSecret.secretValue.unsafeUnwrap() },
      readTimeout: Duration.seconds(60),
    });
    const apiBehavior: cloudfront.BehaviorOptions = {
      origin: apiOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      compress: true,
      functionAssociations: [
        { function: forwardedHost, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
      ],
    };
    // Every path the load balancer serves (the table its listener rules come from): `/api/*`,
    // and the few outside it (the health queries' `/index.pl`).
    const apiPaths = [
      '/api/*',
      ...new Set(HTTP_FUNCTIONS.flatMap((f) => f.paths).filter((p) => !p.startsWith('/api/'))),
    ];

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'deskbroker: portal, console and HTML5 desktop pages; API through the load balancer',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      ...(props.customDomain
        ? {
            domainNames: [props.customDomain.domainName],
            certificate: props.customDomain.certificate,
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: pageBehavior(pageHeaders),
      additionalBehaviors: {
        ...Object.fromEntries(apiPaths.map((p) => [p, apiBehavior])),
        '/desktop': pageBehavior(desktopPageHeaders),
        '/desktop/*': pageBehavior(desktopPageHeaders),
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Users sign in from wherever they work; sites that need it add geo restrictions.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'A CloudFront web ACL must live in us-east-1, outside this stack; docs/deploy.md says how to attach one. Sign-in is throttled per user and per address by the broker itself.',
      },
      ...(props.customDomain
        ? []
        : [
            {
              id: 'AwsSolutions-CFR4',
              reason:
                'Without a custom domain the distribution uses the *.cloudfront.net certificate, whose security policy CloudFront fixes; set portalDomainName and portalCertificateArn for TLS 1.2 minimum.',
            },
          ]),
      ...(props.api.protocol === 'http'
        ? [
            {
              id: 'AwsSolutions-CFR5',
              reason:
                'Without a certificate (tests only, as the load balancer) CloudFront reaches the load balancer over HTTP; with certificateArn it uses HTTPS with TLS 1.2.',
            },
          ]
        : []),
    );

    // Hashed assets: cached for a year, kept across deployments (an open page still loads the
    // chunks it was built with). Everything else: revalidated, and `branding/` left alone.
    new s3deploy.BucketDeployment(this, 'DeployAssets', {
      sources: [s3deploy.Source.asset(`${webDist}/assets`)],
      destinationBucket: this.bucket,
      destinationKeyPrefix: 'assets/',
      prune: false,
      cacheControl: [
        s3deploy.CacheControl.setPublic(),
        s3deploy.CacheControl.maxAge(Duration.days(365)),
        s3deploy.CacheControl.immutable(),
      ],
      memoryLimit: 512,
    });
    new s3deploy.BucketDeployment(this, 'DeployPages', {
      sources: [s3deploy.Source.asset(webDist, { exclude: ['assets/**', '.built'] })],
      destinationBucket: this.bucket,
      prune: false,
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
    });

    acknowledgeDeploymentFunction(this, this.bucket);

    this.url = `https://${props.customDomain?.domainName ?? this.distribution.distributionDomainName}`;
  }
}

/**
 * The findings on CDK's own BucketDeployment function (one per stack and memory size, a child
 * of the stack), with the reasons they are accepted.
 */
function acknowledgeDeploymentFunction(scope: Construct, bucket: s3.Bucket): void {
  const stack = Stack.of(scope);
  const what =
    'CDK’s BucketDeployment function, which copies the built pages to the web bucket at deploy time';
  const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  const findings: [string, string][] = [
    ['AwsSolutions-L1', `The runtime of ${what} is chosen by CDK.`],
    [
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      `The basic execution role of ${what}: writing its own logs.`,
    ],
    ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map(
      (action): [string, string] => [
        `AwsSolutions-IAM5[Action::${action}]`,
        `${what} reads the deployment assets and writes the web bucket (CDK's grantReadWrite).`,
      ],
    ),
    [
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      `${what} writes every page of the web bucket.`,
    ],
    [
      `AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${stack.region}/*]`,
      `${what} reads the deployment's assets from the CDK bootstrap bucket.`,
    ],
    [
      'AwsSolutions-IAM5[Resource::*]',
      `${what} creates the CloudFront invalidation after a deployment (cloudfront:CreateInvalidation has no resource-level permission for it in CDK).`,
    ],
  ];
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
    for (const [id, reason] of findings) Validations.of(child).acknowledge({ id, reason });
  }
}

/** A page's headers (functions/pages.ts) as a response-headers policy, plus HSTS. */
function pageResponseHeaders(
  scope: Construct,
  id: string,
  h: Readonly<Record<string, string>>,
): cloudfront.ResponseHeadersPolicy {
  const known = new Set([
    'content-security-policy',
    'referrer-policy',
    'x-content-type-options',
    'x-frame-options',
  ]);
  if (h['referrer-policy'] !== 'no-referrer' || h['x-frame-options'] !== 'DENY') {
    throw new Error('Portal: PAGE_HEADERS changed: update the response-headers policy to match');
  }
  return new cloudfront.ResponseHeadersPolicy(scope, id, {
    comment: 'deskbroker: the pages’ security headers (functions/pages.ts)',
    securityHeadersBehavior: {
      contentSecurityPolicy: {
        contentSecurityPolicy: h['content-security-policy']!,
        override: true,
      },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: {
        referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER,
        override: true,
      },
      strictTransportSecurity: {
        accessControlMaxAge: Duration.days(730),
        includeSubdomains: true,
        override: true,
      },
    },
    customHeadersBehavior: {
      customHeaders: Object.entries(h)
        .filter(([name]) => !known.has(name))
        .map(([header, value]) => ({ header, value, override: true })),
    },
  });
}

/** The viewer-request function of the pages: page paths to their HTML, unknown paths 404. */
export function pageRouterCode(): string {
  const routes = JSON.stringify(PAGE_ROUTES.map((r) => [r.prefix, `/${r.file}`]));
  const notFound = JSON.stringify(
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Page not found</title>' +
      '<h1>Page not found</h1><p>There is nothing at this address. <a href="/">Go to the sign-in page</a>.</p></html>',
  );
  const headers = JSON.stringify(
    Object.fromEntries(
      Object.entries({ ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }).map(
        ([k, v]) => [k, { value: v }],
      ),
    ),
  );
  return `var ROUTES = ${routes};
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/index.html') { request.uri = '/index.html'; return request; }
  if (/\\.[^/]*$/.test(uri)) return request;
  for (var i = 0; i < ROUTES.length; i++) {
    var prefix = ROUTES[i][0];
    if (uri === prefix || uri.indexOf(prefix + '/') === 0) { request.uri = ROUTES[i][1]; return request; }
  }
  return { statusCode: 404, statusDescription: 'Not Found', headers: ${headers}, body: { encoding: 'text', data: ${notFound} } };
}`;
}

const FORWARDED_HOST_CODE = `function handler(event) {
  var request = event.request;
  request.headers['x-forwarded-host'] = { value: request.headers.host ? request.headers.host.value : '' };
  return request;
}`;
