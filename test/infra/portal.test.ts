/**
 * The pages on AWS (lib/constructs/portal.ts): a private bucket behind CloudFront with origin
 * access control, the load balancer as the origin of the API paths, the pages' security
 * headers, the origin secret the functions trust, and the page-routing function (run here on
 * sample requests, as CloudFront would).
 */
import { runInNewContext } from 'node:vm';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspHeader, DESKTOP_PAGE_CSP } from '../../functions/pages.ts';
import { pageRouterCode } from '../../lib/constructs/portal.ts';
import { type Synthesized, synthDeskbroker } from './synth.ts';

// Managed policies by their fixed IDs (CloudFront's documentation).
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

let s: Synthesized;
let t: Template;
beforeAll(() => {
  s = synthDeskbroker();
  t = s.statelessTemplate;
});
afterAll(() => s?.cleanup());

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
const only = (type: string): any => {
  const all = Object.values(t.findResources(type));
  expect(all).toHaveLength(1);
  return (all[0] as { Properties: unknown }).Properties;
};

/** The response-headers policy with this CSP. */
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
const policyWithCsp = (csp: string): any =>
  Object.values(t.findResources('AWS::CloudFront::ResponseHeadersPolicy'))
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    .map((r: any) => r.Properties.ResponseHeadersPolicyConfig)
    .find((c) => c.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy === csp);

describe('the CloudFront distribution', () => {
  it('serves the pages from the bucket through origin access control, HTTPS only', () => {
    const d = only('AWS::CloudFront::Distribution').DistributionConfig;
    expect(d.DefaultRootObject).toBe('index.html');
    expect(d.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    const s3Origin = d.Origins.find((o: { S3OriginConfig?: unknown }) => o.S3OriginConfig);
    expect(s3Origin.OriginAccessControlId).toBeDefined();
    expect(s3Origin.S3OriginConfig.OriginAccessIdentity).toBe('');
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        SigningBehavior: 'always',
        OriginAccessControlOriginType: 's3',
      }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      }),
    });
  });

  it('keeps the bucket private and encrypted', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.objectLike({}),
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('passes /api/* and /index.pl to the load balancer uncached, with cookies and query, and the origin secret', () => {
    const d = only('AWS::CloudFront::Distribution').DistributionConfig;
    const api = d.CacheBehaviors.filter((b: { PathPattern: string }) =>
      ['/api/*', '/index.pl'].includes(b.PathPattern),
    );
    expect(api.map((b: { PathPattern: string }) => b.PathPattern).sort()).toEqual([
      '/api/*',
      '/index.pl',
    ]);
    for (const b of api) {
      expect(b).toMatchObject({
        CachePolicyId: CACHING_DISABLED,
        OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST,
        ViewerProtocolPolicy: 'https-only',
        AllowedMethods: expect.arrayContaining(['POST', 'PUT', 'DELETE']),
      });
    }
    const alb = d.Origins.find((o: { CustomOriginConfig?: unknown }) => o.CustomOriginConfig);
    expect(api.every((b: { TargetOriginId: string }) => b.TargetOriginId === alb.Id)).toBe(true);
    const header = alb.OriginCustomHeaders.find(
      (h: { HeaderName: string }) => h.HeaderName === 'x-deskbroker-cdn',
    );
    // A dynamic reference to the secret, resolved at deploy time: never the value itself.
    expect(JSON.stringify(header.HeaderValue)).toMatch(/resolve:secretsmanager:/);
  });

  it('gives every HTTP function the origin secret by ARN, and read access to it', () => {
    for (const [name, fn] of Object.entries(s.stateless.functions.http)) {
      const id = s.stateless.getLogicalId(fn.node.defaultChild as never);
      const vars = t.toJSON().Resources[id].Properties.Environment.Variables;
      expect(vars.CDN_ORIGIN_SECRET_ARN, name).toBeDefined();
      expect(vars.CDN_ORIGIN_SECRET, name).toBeUndefined();
    }
  });

  it('puts the pages’ headers on every page: the same CSP as locally, HSTS, no framing', () => {
    const p = policyWithCsp(cspHeader());
    expect(p.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy).toBe(cspHeader());
    expect(p.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy).not.toContain(
      'unsafe-inline',
    );
    expect(p.SecurityHeadersConfig.FrameOptions.FrameOption).toBe('DENY');
    expect(p.SecurityHeadersConfig.ReferrerPolicy.ReferrerPolicy).toBe('no-referrer');
    expect(
      p.SecurityHeadersConfig.StrictTransportSecurity.AccessControlMaxAgeSec,
    ).toBeGreaterThanOrEqual(31_536_000);
    const custom = p.CustomHeadersConfig.Items.map((h: { Header: string }) => h.Header);
    expect(custom).toEqual(
      expect.arrayContaining(['cross-origin-opener-policy', 'permissions-policy']),
    );
  });

  it('gives the HTML5 desktop page its own policy: WebSockets to gateways and WebAssembly, nothing else', () => {
    const desktopCsp = cspHeader(DESKTOP_PAGE_CSP);
    const p = policyWithCsp(desktopCsp);
    const [id] = Object.entries(t.findResources('AWS::CloudFront::ResponseHeadersPolicy')).find(
      ([, r]) =>
        (r as { Properties: { ResponseHeadersPolicyConfig: typeof p } }).Properties
          .ResponseHeadersPolicyConfig === p,
    )!;
    const d = only('AWS::CloudFront::Distribution').DistributionConfig;
    const desktopBehaviors = d.CacheBehaviors.filter((b: { PathPattern: string }) =>
      b.PathPattern.startsWith('/desktop'),
    );

    expect(desktopBehaviors.map((b: { PathPattern: string }) => b.PathPattern).sort()).toEqual([
      '/desktop',
      '/desktop/*',
    ]);
    for (const b of desktopBehaviors) expect(b.ResponseHeadersPolicyId).toEqual({ Ref: id });
    expect(desktopCsp).toContain("connect-src 'self' ws: wss:");
    expect(desktopCsp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(desktopCsp).not.toContain('unsafe-inline');
    expect(cspHeader()).not.toContain('ws:');
  });

  it('deploys hashed assets cached for a year and pages revalidated, never pruning branding/', () => {
    const deployments = Object.values(t.findResources('Custom::CDKBucketDeployment')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    expect(deployments).toHaveLength(2);
    for (const d of deployments) expect(d.Prune).toBe(false);
    const assets = deployments.find((d) => d.DestinationBucketKeyPrefix === 'assets/')!;
    expect(JSON.stringify(assets.SystemMetadata)).toContain('max-age=31536000');
    const pages = deployments.find((d) => d.DestinationBucketKeyPrefix === undefined)!;
    expect(JSON.stringify(pages.SystemMetadata)).toContain('no-cache');
    expect(pages.DistributionPaths).toEqual(['/*']);
  });

  it('outputs the portal URL', () => {
    t.hasOutput('PortalUrl', { Value: Match.objectLike({}) });
  });
});

describe('the page-routing function', () => {
  const route = (uri: string) => {
    const handler = runInNewContext(`${pageRouterCode()}; handler`) as (e: unknown) => {
      uri?: string;
      statusCode?: number;
      headers?: Record<string, { value: string }>;
    };
    return handler({ request: { uri, headers: {} } });
  };

  it('maps page paths to their HTML and leaves files alone', () => {
    expect(route('/').uri).toBe('/index.html');
    expect(route('/admin').uri).toBe('/admin/index.html');
    expect(route('/admin/desktops').uri).toBe('/admin/index.html');
    expect(route('/desktop/42').uri).toBe('/desktop/index.html');
    expect(route('/assets/portal-abc.js').uri).toBe('/assets/portal-abc.js');
    expect(route('/branding/logo.svg').uri).toBe('/branding/logo.svg');
  });

  it('answers any other path 404 with the page headers', () => {
    const answer = route('/administrator');
    expect(answer.statusCode).toBe(404);
    expect(answer.headers?.['content-security-policy']?.value).toBe(cspHeader());
  });
});

describe('a custom portal domain', () => {
  it('uses the name and its certificate with TLS 1.2 at least', () => {
    const custom = synthDeskbroker({
      portalDomainName: 'desktops.example.org',
      portalCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
    });
    try {
      custom.statelessTemplate.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({
          Aliases: ['desktops.example.org'],
          ViewerCertificate: Match.objectLike({
            AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
            MinimumProtocolVersion: 'TLSv1.2_2021',
          }),
        }),
      });
    } finally {
      custom.cleanup();
    }
  });
});
