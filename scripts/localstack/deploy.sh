#!/usr/bin/env bash
# Deploys deskbroker to LocalStack with cdklocal (aws-cdk-local, pinned, run through npx with
# the project's pinned aws-cdk CLI), in the CDK app's LocalStack mode: no VPC, load balancer,
# Aurora or Fargate (not in LocalStack's free edition; see docs/deploy-localstack.md), the
# site database reached by URL. Writes the stack outputs to cdk.out/localstack-outputs.json
# for `npm run test:localstack`.
#
#   LOCALSTACK_ENDPOINT      LocalStack's edge URL (default http://localhost.localstack.cloud:4566)
#   LOCALSTACK_SITE_DB_URL   postgres:// URL of an existing, empty or deskbroker database that
#                            LocalStack's Lambda containers can reach (required)
#   AWS_REGION               default us-east-1
set -euo pipefail
cd "$(dirname "$0")/../.."

AWS_CDK_LOCAL_VERSION=3.0.4
AWS_CDK_VERSION=$(node -p "require('./package.json').devDependencies['aws-cdk']")

: "${LOCALSTACK_ENDPOINT:=http://localhost.localstack.cloud:4566}"
if [ -z "${LOCALSTACK_SITE_DB_URL:-}" ]; then
  echo "deploy:local: set LOCALSTACK_SITE_DB_URL to a postgres:// URL the Lambda containers can reach," >&2
  echo "  for example postgres://postgres@172.17.0.1:5432/deskbroker_localstack (create the database first)" >&2
  exit 2
fi
if ! curl -fsS "$LOCALSTACK_ENDPOINT/_localstack/health" >/dev/null; then
  echo "deploy:local: LocalStack does not answer at $LOCALSTACK_ENDPOINT" >&2
  exit 2
fi

export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_ENDPOINT_URL="$LOCALSTACK_ENDPOINT"
# cdklocal needs an S3 endpoint with `.s3.` in it (virtual-hosted buckets).
export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-${LOCALSTACK_ENDPOINT/:\/\//://s3.}}"
# cdklocal drops AWS_* variables it is not told to keep.
export AWS_ENVAR_ALLOWLIST=AWS_REGION,AWS_DEFAULT_REGION
# Lets cdklocal find the project's aws-cdk when npx reuses it.
export NODE_PATH="$PWD/node_modules${NODE_PATH:+:$NODE_PATH}"

cdklocal() {
  npx --yes --package "aws-cdk-local@$AWS_CDK_LOCAL_VERSION" --package "aws-cdk@$AWS_CDK_VERSION" \
    cdklocal "$@"
}
context=(-c localstack=true -c "siteDbUrl=$LOCALSTACK_SITE_DB_URL" -c "region=$AWS_REGION")

cdklocal bootstrap "aws://000000000000/$AWS_REGION" "${context[@]}"
cdklocal deploy --all --require-approval never "${context[@]}" \
  --outputs-file cdk.out/localstack-outputs.json
echo "deploy:local: done; outputs in cdk.out/localstack-outputs.json"
echo "  next: LOCALSTACK_ENDPOINT=$LOCALSTACK_ENDPOINT npm run test:localstack"
