/**
 * A loopback stand-in for the Lambda and API Gateway control-plane calls `spigot doctor` makes
 * (AWS_ENDPOINT_URL_LAMBDA and AWS_ENDPOINT_URL_API_GATEWAY both point here; the paths differ).
 *
 * Wire shapes (restJson1, as @aws-sdk/client-lambda@3.1162.0 and @aws-sdk/client-api-gateway@3.1142.0 send them):
 * - Lambda GetAccountSettings: `GET /2016-08-19/account-settings` -> `{AccountLimit: {ConcurrentExecutions, UnreservedConcurrentExecutions}}`
 * - Lambda GetFunctionConcurrency: `GET /2019-09-30/functions/<name>/concurrency` -> `{ReservedConcurrentExecutions}`,
 *   or 404 with `x-amzn-ErrorType: ResourceNotFoundException`
 * - Lambda Invoke: `POST /2015-03-31/functions/<name>/invocations`, event as the body -> the handler's JSON
 * - API Gateway GetAccount: `GET /account` -> `{cloudwatchRoleArn?}`
 * SigV4 is not checked.
 */
import { createServer, type ServerResponse } from 'node:http';
import { loopback } from '../support/loopback-server';

export interface ControlPlaneState {
  concurrency: { limit: number; unreserved: number };
  /** Reserved concurrency per function name; a name missing here is a function with none. */
  reservations: Record<string, number>;
  /** Functions that exist; Invoke on any other name is a 404. */
  functions: Record<string, (event: unknown) => Promise<unknown>>;
  cloudwatchRoleArn?: string;
}

export interface LoopbackControlPlane {
  readonly endpoint: string;
  readonly state: ControlPlaneState;
  /** Every request as `METHOD path`, in order. */
  readonly requests: string[];
  stop(): Promise<void>;
}

export async function startLoopbackControlPlane(initial: ControlPlaneState): Promise<LoopbackControlPlane> {
  const state = initial;
  const requests: string[] = [];
  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, what: string): void =>
    reply(res, 404, { Type: 'User', Message: `${what} not found` }, { 'x-amzn-ErrorType': 'ResourceNotFoundException' });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://loopback');
      const route = `${req.method} ${url.pathname}`;
      requests.push(route);
      const fn = /^\/(?:2019-09-30|2015-03-31)\/functions\/([^/]+)\/(concurrency|invocations)$/.exec(url.pathname);
      if (route === 'GET /2016-08-19/account-settings' || route === 'GET /2016-08-19/account-settings/') {
        reply(res, 200, { AccountLimit: { ConcurrentExecutions: state.concurrency.limit, UnreservedConcurrentExecutions: state.concurrency.unreserved } });
      } else if (route === 'GET /account') {
        reply(res, 200, state.cloudwatchRoleArn ? { cloudwatchRoleArn: state.cloudwatchRoleArn } : {});
      } else if (fn && req.method === 'GET' && fn[2] === 'concurrency') {
        const name = decodeURIComponent(fn[1]);
        if (!(name in state.functions)) notFound(res, `Function ${name}`);
        else reply(res, 200, name in state.reservations ? { ReservedConcurrentExecutions: state.reservations[name] } : {});
      } else if (fn && req.method === 'POST' && fn[2] === 'invocations') {
        const handler = state.functions[decodeURIComponent(fn[1])];
        if (!handler) {
          notFound(res, `Function ${fn[1]}`);
          return;
        }
        const event = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        handler(event).then(
          (result) => reply(res, 200, result, { 'X-Amz-Executed-Version': '$LATEST' }),
          (error: Error) => reply(res, 200, { errorType: error.name, errorMessage: error.message }, { 'X-Amz-Function-Error': 'Unhandled' }),
        );
      } else {
        reply(res, 400, { message: `loopback control plane does not implement ${route}` });
      }
    });
  });
  const handle = loopback(server);
  const port = await handle.listen();
  return { endpoint: `http://127.0.0.1:${port}`, state, requests, stop: handle.close };
}
