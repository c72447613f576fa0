/**
 * What the Lambda runtime does with a function's code, in a child process: import the
 * handler module (`index.mjs`, as `Handler: index.handler` says) once, then run one
 * invocation at a time with a Lambda context, reporting results over IPC. Run by
 * deployed-function.ts with the function's folder as its working directory.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const send = (message: unknown) => process.send!(message);
const taskRoot = process.cwd();
const started = performance.now();
let handler: Handler;
try {
  const module = (await import(pathToFileURL(path.join(taskRoot, 'index.mjs')).href)) as {
    handler?: Handler;
  };
  if (typeof module.handler !== 'function') throw new Error('index.mjs exports no handler');
  handler = module.handler;
  send({ type: 'loaded', ms: performance.now() - started });
} catch (e: unknown) {
  send({ type: 'failed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
}

process.on('message', async (message: { id: number; event: unknown }) => {
  const deadline = Date.now() + 30_000;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  const t = performance.now();
  try {
    const result = await handler(message.event, context);
    send({ type: 'result', id: message.id, result, ms: performance.now() - t });
  } catch (e: unknown) {
    const error =
      e instanceof Error ? { name: e.name, message: e.message } : { message: String(e) };
    send({ type: 'error', id: message.id, error, ms: performance.now() - t });
  }
});
